/** What every subcommand gets besides its own arguments. */
export interface CommandContext {
  /** `--verbose`: stacks on errors, TensorFlow's C++ logs and the workers' stderr. */
  verbose: boolean;
}

/** One `tfbridge` subcommand: its one-line summary, its `--help` text and how it runs. */
export interface Command {
  summary: string;
  usage: string;
  /** Resolves with the exit status; throws UsageError for a bad command line (exit 2). */
  run(args: string[], context: CommandContext): Promise<number>;
}
