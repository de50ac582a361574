// The admin page through the forge door (a bundle entry point: ui/build.mjs).
import { startAdmin } from "../admin/page.js";
import { forgeTransport } from "./transport.js";

startAdmin(forgeTransport());
