/** What a worker says about itself when it joins (its `ready` message). */
export interface WorkerInfo {
  protocol: number;
  pid: number;
  python: string;
  numpy: string;
  tensorflow: string;
  keras: string;
  /** The CPU the worker runs on and its ISA extensions that select TF's kernels (e.g. `avx512f`). */
  cpu: CpuInfo;
  /** Whether the worker's TensorFlow runs oneDNN's kernels, and the `TF_ENABLE_ONEDNN_OPTS` that decided it. */
  onednn: OnednnInfo;
  ops: string[];
}

/** A CPU and the ISA extensions of it that change which kernels TensorFlow runs. */
export interface CpuInfo {
  model: string;
  arch: string;
  isa: string[];
}

/** oneDNN's state in one TensorFlow runtime; `env` is `TF_ENABLE_ONEDNN_OPTS` as that process saw it. */
export interface OnednnInfo {
  enabled: boolean;
  env: string | null;
}
