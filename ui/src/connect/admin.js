// The admin page through the connect door (a bundle entry point: ui/build.mjs).
import { startAdmin } from "../admin/page.js";
import { connectTransport } from "./transport.js";

startAdmin(connectTransport());
