/**
 * The commented config file `clustrix init` writes: one profile per backend with the keys people
 * change most, each explained where it is set. It must itself be a valid config (a test loads it),
 * so a new user starts from a file that works and edits values, not syntax.
 */

/** A commented clustrix.config.yaml with a profile for each backend. */
export function configTemplate(): string {
  return TEMPLATE;
}

const TEMPLATE = `# clustrix config: profiles of Cluster.start() options.
#
#   const cluster = await Cluster.start({ profile: 'hpc' });          // a profile as it is
#   const big = await Cluster.start({ profile: 'hpc', agents: 16 });  // options given in code win
#
# clustrix reads ./clustrix.config.yaml, else ~/.config/clustrix/config.yaml
# ($XDG_CONFIG_HOME/clustrix/config.yaml when XDG_CONFIG_HOME is set).
# Unknown keys are errors (a typo would otherwise be ignored). Durations are whole milliseconds.
# No secrets here: the cluster token is made fresh at each start, and SSH keys are named by
# identityFile (an encrypted key is unlocked by ssh-agent or CLUSTRIX_SSH_PASSPHRASE).

# The profile the CLI uses when none is named (e.g. \`clustrix check\`).
default: local

profiles:
  # Agents as child processes on this machine.
  local:
    backend: local
    agents: 2              # default: about one agent per 4 cores
    slots: 2               # worker threads per agent; default: the cores divided among the agents

  # Agents on plain hosts over SSH (no scheduler), spread round robin.
  workstations:
    backend: ssh
    agents: 4
    hosts:
      - gpu-box-1                      # a Host alias from ~/.ssh/config
      - ada@10.0.0.12:2222             # or user@host:port
      - host: big-box.example.org      # or full ssh options
        user: ada
        identityFile: ~/.ssh/id_ed25519
        maxAgents: 2                   # at most this many agents on this host
    node: node                         # the node (>= 20) command on the hosts
    # Agents dial back to this machine: listen where the hosts can reach it.
    host: 0.0.0.0
    advertiseHost: my-laptop.example.org

  # SLURM: agents are batch jobs submitted on the login node over SSH.
  hpc:
    backend: slurm
    agents: 8
    ssh:
      host: login.hpc.example.edu      # or an ssh_config alias
      user: ada
      identityFile: ~/.ssh/id_ed25519
      # proxyJump: ada@bastion.example.edu
    resources:
      cpusPerTask: 8                   # also each agent's worker threads
      memory: 16G                      # MB as a number, or 512M, 16G, 1.5T
      time: "02:00:00"                 # walltime: minutes, HH:MM:SS or D-HH:MM:SS
      partition: short
      # account: my-project
      # qos: normal
      # gpus: 1
      # extraDirectives: ["--constraint=skylake"]
    setup:                             # shell lines run before each agent starts
      - module load nodejs/20
    # The compute nodes cannot reach this laptop: tunnel back over the SSH connection.
    connect: tunnel
    # relayHost: login1.hpc.internal   # the login node's address as compute nodes see it
    # remoteDir: ~/.clustrix           # cache, job scripts and logs, on a shared filesystem
    # maxArraySize: 1000               # a scale step is one job array of at most this many jobs (1: no arrays)
    # slurm:
    #   accounting: auto               # auto | slurmdbd | jobcomp | none

  # PBS (Torque or PBS Pro).
  pbs:
    backend: pbs
    agents: 4
    ssh:
      host: pbs-login.example.edu
    resources:
      cpusPerTask: 4
      memory: 8G
      time: 60                         # minutes
      queue: workq
    setup:
      - module load nodejs/20
    pbs:
      resourceStyle: pbspro            # pbspro (-l select=1:ncpus=N) or torque (-l nodes=1:ppn=N, the default)

  # Grid Engine (SGE, Son of Grid Engine, Univa/Altair).
  sge:
    backend: sge
    agents: 4
    ssh:
      host: sge-login.example.edu
    resources:
      cpusPerTask: 4
      memory: 4G
      time: "01:00:00"
      queue: all.q
    sge:
      parallelEnvironment: smp         # the PE for cpusPerTask slots on one host (qconf -spl lists them)
      memoryResource: h_vmem           # carries resources.memory, requested per slot
      # gpuResource: gpu               # the consumable that carries resources.gpus
    # binDir: /opt/sge/bin/lx-amd64    # when qsub is not on the login shell's PATH

  # Kubernetes: a Job of agent pods from the image built by Dockerfile.agent.
  k8s:
    backend: kubernetes
    agents: 4
    kubernetes:
      # context: my-cluster            # default: the kubeconfig's current context
      namespace: clustrix
      # image: ghcr.io/clustrix/agent:<version>   # default: the image of this clustrix version
      cpu: 2                           # request per pod; the limit defaults to the request
      memory: 4Gi
      # gpus: 1
      # nodeSelector: { pool: compute }
    # The pods dial back to the coordinator: listen where they can reach it.
    host: 0.0.0.0
    advertiseHost: 10.0.0.5
    port: 7420
`;
