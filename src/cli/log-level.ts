/**
 * TensorFlow's C++ logging (tfjs-node in the CLI's process, TensorFlow in the workers, which inherit the
 * environment) is INFO-level chatter that floods the output: the CLI asks for warnings and up, unless
 * --verbose or an explicit `TF_CPP_MIN_LOG_LEVEL` says otherwise. Returns `env` with that setting.
 */
export function withCliLogLevel(env: NodeJS.ProcessEnv, verbose: boolean): NodeJS.ProcessEnv {
  return { ...env, TF_CPP_MIN_LOG_LEVEL: env.TF_CPP_MIN_LOG_LEVEL ?? (verbose ? "0" : "2") };
}
