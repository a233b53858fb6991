# Copy to site-env.sh (beside it; git ignores it) for what jobs on this cluster need before
# unilvseg runs: deploy/slurm/*.sbatch source it on the compute node, also under --export=NONE.
# Or point UNILVSEG_SITE_ENV at another file.

# Node.js >= 20 from the site's environment modules (names differ per site: `module avail node`):
# module load nodejs/20
# ... or from a folder of yours:
# export PATH=$HOME/opt/node-v20/bin:$PATH

# Run the container instead of the checkout's build (the image of deploy/Dockerfile):
# UNILVSEG="apptainer exec --bind /data,/scratch $HOME/unilvseg-onnx.sif node /app/dist/src/cli/main.js"
