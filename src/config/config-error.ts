/**
 * A bad setting or catalogue: start-up stops with this message. It names the setting or file, and never
 * carries the value of a sensitive setting (settings.ts masks them before a ConfigError leaves loadConfig).
 */
export class ConfigError extends Error {
  /** The environment variable at fault, when one is (SWITCHYARD_…). */
  readonly setting?: string;

  constructor(message: string, setting?: string) {
    super(message);
    this.name = 'ConfigError';
    if (setting !== undefined) this.setting = setting;
  }
}
