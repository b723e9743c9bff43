/** What a worker says about itself when it joins (its `ready` message). */
export interface WorkerInfo {
  protocol: number;
  pid: number;
  python: string;
  numpy: string;
  tensorflow: string;
  keras: string;
  ops: string[];
}
