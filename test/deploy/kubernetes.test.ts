// deploy/kubernetes checked against the Kubernetes API's JSON schema (kubernetes-models, generated
// from the Kubernetes 1.27 OpenAPI document), and against each other: the merge job names the same
// input as the Indexed Job, and the pods are sized as deploy/README.md says.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { parse } from 'yaml';
import { CHECKOUT } from './helpers.js';
import { TASK_MB, WORKER_MB } from './sizing.js';

interface Container {
  args: string[];
  env?: { name: string; value: string }[];
  resources: { requests: { cpu: string; memory: string }; limits?: { cpu: string; memory: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface JobDoc {
  spec: {
    completions?: number;
    template: {
      spec: {
        containers: Container[];
        volumes: { name: string; persistentVolumeClaim: { claimName: string } }[];
      };
    };
  };
}

const manifest = (name: string) =>
  parse(readFileSync(join(CHECKOUT, 'deploy/kubernetes', name), 'utf8')) as JobDoc;

/** The value after `flag` in a command line. */
const flag = (words: string[], name: string) => words[words.indexOf(name) + 1];
/** `3Gi` / `1536Mi` in MB (MiB). */
const mib = (q: string) => Number(q.replace(/[GM]i$/, '')) * (q.endsWith('Gi') ? 1024 : 1);

describe('deploy/kubernetes manifests', function () {
  const segment = manifest('segment-batch-job.yaml');
  const merge = manifest('merge-batch-job.yaml');
  const segmentPod = segment.spec.template.spec;
  const mergePod = merge.spec.template.spec;
  // The segment job's command is `sh -c '<one line>'`: its words.
  const segmentWords = segmentPod.containers[0].args.join(' ').split(/[\s;]+/);
  const mergeArgs = mergePod.containers[0].args;

  it('both are valid batch/v1 Jobs by the Kubernetes schema', function () {
    for (const doc of [segment, merge]) expect(() => new Job(doc as never).validate()).to.not.throw();
    const broken = structuredClone(merge) as unknown as { spec: { backoffLimit: unknown } };
    broken.spec.backoffLimit = 'none';
    expect(() => new Job(broken as never).validate()).to.throw(/backoffLimit must be integer/);
  });

  it("the merge job passes the Indexed Job's --input (its volume mounted the same way), so videos of pods that never ran are named", function () {
    const input = flag(segmentWords, '--input');
    expect(flag(mergeArgs, '--input')).to.equal(input);
    expect(flag(mergeArgs, '--output')).to.equal(flag(segmentWords, '--output'));
    const mountOf = (pod: typeof segmentPod, path: string) => {
      const m = pod.containers[0].volumeMounts.find((v) => path.startsWith(v.mountPath))!;
      const claim = pod.volumes.find((v) => v.name === m.name)!.persistentVolumeClaim.claimName;
      return { mountPath: m.mountPath, readOnly: m.readOnly, claim };
    };
    expect(mountOf(mergePod, input)).to.deep.equal(mountOf(segmentPod, input));
  });

  it('the Indexed Job is sized as the Slurm task: CPU request = workers x threads, memory request within 1-1.5x what the workers of a full 3d_unet need', function () {
    const c = segmentPod.containers[0];
    const workers = Number(flag(segmentWords, '--workers'));
    const threads = Number(flag(segmentWords, '--threads'));
    expect(Number(c.resources.requests.cpu)).to.equal(workers * threads);
    const need = workers * WORKER_MB + TASK_MB;
    expect(mib(c.resources.requests.memory)).to.be.within(need, 1.5 * need);
    expect(mib(c.resources.limits!.memory)).to.be.at.least(mib(c.resources.requests.memory));
    expect(c.env!.find((e) => e.name === 'UNILVSEG_SHARDS')!.value).to.equal(
      String(segment.spec.completions),
    );
  });
});
