/** Whether this replica takes new work. Set to draining on SIGTERM, before the server closes. */
import { Injectable } from '@nestjs/common';

@Injectable()
export class LifecycleService {
  draining = false;
}
