/** The public surface of the clock module: what other modules may import (docs/architecture.md). */
export { ClockModule } from './clock.module.js';
export { CLOCK } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
