/**
 * The `kura doctor` command line for the settings the extension gives the server, so the doctor
 * checks the configuration this editor uses; and what its exit code means. Pure, unit-tested.
 */

function section(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `doctor` plus `--model`, `--backend`, `--server-url`, `--model-name`, `--index`, `--usage-log` for the values set. */
export function doctorArgs(settings: Record<string, unknown>): string[] {
  const args = ['doctor'];
  const add = (flag: string, value: unknown): void => {
    if (typeof value === 'string' && value.trim() !== '') {
      args.push(flag, value.trim());
    }
  };
  const model = section(settings['model']);
  add('--model', model['path']);
  add('--backend', model['backend']);
  add('--server-url', model['serverUrl']);
  add('--model-name', model['name']);
  add('--index', section(settings['index'])['path']);
  add('--usage-log', section(settings['usage'])['path']);
  return args;
}

export interface DoctorOutcome {
  level: 'info' | 'warning' | 'error';
  message: string;
}

/** What to tell the user when `kura doctor` ended (0: healthy, 1: problems, else it did not run through). */
export function doctorOutcome(code: number | null, signal: string | null): DoctorOutcome {
  if (code === 0) {
    return { level: 'info', message: 'kura doctor: no problems found (details in the kura output).' };
  }
  if (code === 1) {
    return { level: 'warning', message: 'kura doctor found problems: each has its fix in the kura output.' };
  }
  const how = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
  return { level: 'error', message: `kura doctor ${how}; see the kura output (an older kura has no doctor command: update it).` };
}
