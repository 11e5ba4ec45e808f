// The frame the brain's commands (`review`, `themes`) share: `loopwright <name> [SUBCOMMAND] [options]`
// with the first subcommand as the default, strict option parsing where any usage problem prints the
// usage and exits 2, --help/-h, and the stores (worker/brain/context.ts) opened around a subcommand
// and closed after it; a LoopwrightError is printed as `loopwright <name>: <message>` with exit 1.
// Not a command itself: cli.ts lists only modules that export `command`.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isLoopwrightError } from '../../workflows/domain/errors.js';
import { openBrainStores, type BrainCliContext } from '../brain/context.js';
import type { CliIo } from './types.js';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;

export type TParsedArgs<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O & typeof HELP; strict: true; allowPositionals: true }>>;

export interface TBrainCommand<O extends ParseArgsOptionsConfig> {
  name: string;
  usage: string;
  /** The subcommands; the first is the default when the arguments start with an option. */
  subcommands: readonly string[];
  options: O;
  /** Throws an Error whose message says what is wrong with the arguments (exit 2, usage printed). */
  check(sub: string, args: TParsedArgs<O>): void;
  /** A subcommand that needs no store (it returns a number) or undefined to open the stores. */
  withoutStores?(sub: string, args: TParsedArgs<O>, io: CliIo): Promise<number> | undefined;
  run(sub: string, args: TParsedArgs<O>, ctx: BrainCliContext, io: CliIo): Promise<number>;
}

export function brainCommand<const O extends ParseArgsOptionsConfig>(spec: TBrainCommand<O>): (argv: string[], io: CliIo) => Promise<number> {
  return async (argv, io) => {
    const named = argv[0] !== undefined && !argv[0].startsWith('-');
    const sub = named ? argv[0]! : spec.subcommands[0]!;
    let args: TParsedArgs<O>;
    let common: { help?: boolean; db?: string };
    try {
      args = parseArgs({ args: named ? argv.slice(1) : argv, strict: true, allowPositionals: true, options: { ...spec.options, ...HELP } }) as TParsedArgs<O>;
      if (![...spec.subcommands, 'help'].includes(sub)) throw new Error(`unknown subcommand "${sub}"`);
      common = args.values as typeof common;
      spec.check(sub, args);
    } catch (e) {
      io.stderr.write(`loopwright ${spec.name}: ${(e as Error).message}\n\n${spec.usage}`);
      return 2;
    }
    if (common.help || sub === 'help') {
      io.stdout.write(spec.usage);
      return 0;
    }
    const done = spec.withoutStores?.(sub, args, io);
    if (done) return done;
    let ctx;
    try {
      ctx = await openBrainStores(common.db, io.env);
    } catch (e) {
      io.stderr.write(`loopwright ${spec.name}: ${isLoopwrightError(e) ? e.message : 'cannot open the stores'}\n`);
      return 1;
    }
    try {
      return await spec.run(sub, args, ctx, io);
    } catch (e) {
      if (!isLoopwrightError(e)) throw e;
      io.stderr.write(`loopwright ${spec.name}: ${e.message}\n`);
      return 1;
    } finally {
      await ctx.close();
    }
  };
}
