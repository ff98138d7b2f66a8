/** The keyed hash under which API keys are stored and looked up: HMAC-SHA256 with the server's pepper. */
import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/index.js';

@Injectable()
export class ApiKeyHasher {
  private readonly pepper: Buffer;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'keyPepper'>) {
    this.pepper = Buffer.from(config.keyPepper, 'utf8');
  }

  /** Hex HMAC-SHA256 of the whole key: the only form in which a key is stored or looked up. */
  hash(key: string): string {
    return createHmac('sha256', this.pepper).update(key).digest('hex');
  }
}
