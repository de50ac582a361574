// The Atlaskit icons the panel shows. @atlaskit/icon's glyphs are CommonJS (`exports.default`); imported
// from this "type": "module" package, a module's default is its whole `exports`, so take `.default` of it.
import * as calendar from "@atlaskit/icon/core/calendar";
import * as checkCircle from "@atlaskit/icon/core/check-circle";
import * as clock from "@atlaskit/icon/core/clock";
import * as statusError from "@atlaskit/icon/core/status-error";
import * as statusWarning from "@atlaskit/icon/core/status-warning";
import * as videoPause from "@atlaskit/icon/core/video-pause";

const glyph = (module) => module.default?.default ?? module.default;

export const CalendarIcon = glyph(calendar);
export const CheckCircleIcon = glyph(checkCircle);
export const ClockIcon = glyph(clock);
export const StatusErrorIcon = glyph(statusError);
export const StatusWarningIcon = glyph(statusWarning);
export const VideoPauseIcon = glyph(videoPause);
