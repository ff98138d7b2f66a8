/** Time, injected (CLOCK): the system clock in the gateway, a ManualClock in tests. Global. */
import { Global, Module } from '@nestjs/common';
import { CLOCK, systemClock } from './clock.js';

@Global()
@Module({ providers: [{ provide: CLOCK, useValue: systemClock }], exports: [CLOCK] })
export class ClockModule {}
