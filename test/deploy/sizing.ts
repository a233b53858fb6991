// What a segment-batch task needs resident with the full 3d_unet (measured, deploy/README.md
// "Sizing"): per worker process, and the main process with the decoded video beside them.
export const WORKER_MB = 1100;
export const TASK_MB = 200;
