/**
 * A bug (an error that is not a JourneyError) ends with exit 70 and one line that says
 * so, without a stack; --debug prints the stack instead. A command is made to throw one
 * by replacing its module: no real input reaches this path (the fuzz suite checks that).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Command } from 'commander';
import { STACK_LINE, capture } from '../fuzz/helpers.js';

vi.mock('../../src/cli/commands/migrate.js', () => ({
  registerMigrate: (program: Command) =>
    program.command('migrate').action(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'rows')\nsecond line of the message");
    }),
}));

const { main } = await import('../../src/cli/main.js');

afterEach(() => {
  process.exitCode = undefined;
});

describe('an internal error', () => {
  it('is exit 70 and one line, pointing at --debug', async () => {
    const out = await capture(() => main(['node', 'journey', 'migrate']));
    expect(out.value).toBe(70);
    expect(out.stderr).toBe("internal error: Cannot read properties of undefined (reading 'rows') (run with --debug for the stack)\n");
    expect(out.stdout).toBe('');
  });

  it('with --debug prints the stack', async () => {
    const out = await capture(() => main(['node', 'journey', '--debug', 'migrate']));
    expect(out.value).toBe(70);
    expect(out.stderr).toMatch(/^TypeError: Cannot read properties of undefined/);
    expect(out.stderr).toMatch(STACK_LINE);
  });
});
