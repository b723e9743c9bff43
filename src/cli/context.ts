/** What every subcommand gets besides its own arguments. */
export interface CommandContext {
  /** `--verbose`: stacks on errors, TensorFlow's C++ logs and the workers' stderr. */
  verbose: boolean;
}

/** A subcommand's code: its `--help` text and how it runs. */
export interface CommandModule {
  usage: string;
  /** Resolves with the exit status; throws UsageError for a bad command line (exit 2). */
  run(args: string[], context: CommandContext): Promise<number>;
}

/**
 * One `tfbridge` subcommand: its one-line summary, and its code, loaded only when it is the one asked
 * for, so that a run (or `--version`, or a typo) loads that command's dependencies and not every one's.
 */
export interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}
