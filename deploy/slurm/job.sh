# Sourced by segment-batch.sbatch and merge-batch.sbatch once they have found the checkout
# ($unilvseg_home): the site's setup, then UNILVSEG, the command that runs unilvseg. Nothing here
# comes from the submitting shell, so a job runs the same under --export=NONE.

unilvseg_home=$(cd "$unilvseg_home" && pwd)

# 1. The site's setup (module load, a PATH to node, UNILVSEG for a container): site-env.sh beside
#    this file (copy site-env.example.sh), or the file UNILVSEG_SITE_ENV names.
unilvseg_site_env=${UNILVSEG_SITE_ENV:-$unilvseg_home/deploy/slurm/site-env.sh}
if [ -f "$unilvseg_site_env" ]; then
  # shellcheck disable=SC1090
  . "$unilvseg_site_env" || { echo "unilvseg: $unilvseg_site_env failed (exit $?)" >&2; exit 1; }
fi

# 2. The command: given by the site (e.g. Apptainer), else node >= 20 on the PATH and the checkout's build.
if [ -z "${UNILVSEG:-}" ]; then
  if ! command -v node >/dev/null 2>&1; then
    echo "unilvseg: no node on this job's PATH ($PATH). unilvseg needs Node.js >= 20: load it in $unilvseg_site_env (e.g. 'module load nodejs/20'; see site-env.example.sh)" >&2
    exit 1
  fi
  unilvseg_node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
  case $unilvseg_node_major in '' | *[!0-9]*) unilvseg_node_major=0 ;; esac
  if [ "$unilvseg_node_major" -lt 20 ]; then
    echo "unilvseg: $(command -v node) is Node.js $(node --version 2>/dev/null); unilvseg needs >= 20: load a newer one in $unilvseg_site_env (e.g. 'module load nodejs/20')" >&2
    exit 1
  fi
  if [ ! -f "$unilvseg_home/dist/src/cli/main.js" ]; then
    echo "unilvseg: $unilvseg_home/dist/src/cli/main.js is missing: run 'npm install' in $unilvseg_home" >&2
    exit 1
  fi
  UNILVSEG="node $unilvseg_home/dist/src/cli/main.js"
fi
echo "unilvseg: $(hostname) $(date -u +%FT%TZ), job ${SLURM_JOB_ID:-none}${SLURM_ARRAY_TASK_ID:+ task $SLURM_ARRAY_TASK_ID}, checkout $unilvseg_home, node $(command -v node), command: $UNILVSEG" >&2

# The value of flag $1 among the remaining arguments (its last one, as commander keeps), or nothing.
unilvseg_flag() {
  local name=$1 value=
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      "$name") value=${2-} && shift ;;
      "$name"=*) value=${1#*=} ;;
    esac
    shift
  done
  printf '%s' "$value"
}
