// The panel page through the connect door (a bundle entry point: ui/build.mjs).
import { startPanel } from "../panel/page.js";
import { connectTransport } from "./transport.js";

startPanel(connectTransport());
