// The panel page through the forge door (a bundle entry point: ui/build.mjs).
import { startPanel } from "../panel/page.js";
import { forgeTransport } from "./transport.js";

startPanel(forgeTransport());
