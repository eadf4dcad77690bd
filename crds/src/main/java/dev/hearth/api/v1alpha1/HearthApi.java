package dev.hearth.api.v1alpha1;

/**
 * Names shared by the operator, the node agent, {@code hearth run} and the Helm chart.
 *
 * <h2>Node Leases</h2>
 *
 * <p>Each node agent holds a {@code coordination.k8s.io/v1} Lease named {@link #leaseName(String)
 * hearth-node-&lt;node&gt;} in the namespace the agent runs in (the chart's release namespace;
 * {@link #DEFAULT_LEASE_NAMESPACE} when unset). The agent sets {@code spec.holderIdentity} to its
 * node name, {@code spec.leaseDurationSeconds} (default {@link #DEFAULT_LEASE_DURATION_SECONDS})
 * and renews {@code spec.renewTime} well within that duration (every third of it). The operator
 * reads Leases in the same namespace: a node whose Lease is missing or whose {@code renewTime +
 * leaseDurationSeconds} lies in the past is NotReady.
 */
public final class HearthApi {
  private HearthApi() {}

  /** The API group. */
  public static final String GROUP = "hearth.dev";

  /** The API version within {@link #GROUP}. */
  public static final String VERSION = "v1alpha1";

  /** {@code apiVersion} as it appears in manifests. */
  public static final String API_VERSION = GROUP + "/" + VERSION;

  /**
   * Label the operator puts on a MicroVM when it binds it; its value is the node name. Each agent
   * watches only MicroVMs with {@code hearth.dev/node=<its node>}.
   */
  public static final String NODE_LABEL = "hearth.dev/node";

  /**
   * Finalizer the operator adds at binding. The agent of the bound node removes it once the VM is
   * stopped and its tap, IP and cache references are freed; the operator removes it only for a node
   * that is gone (its Lease expired past the grace period).
   */
  public static final String AGENT_FINALIZER = "hearth.dev/agent";

  /** Label on a MicroVM created by a MicroVMSet, holding the set's name. */
  public static final String SET_LABEL = "hearth.dev/set";

  /**
   * Label the operator puts on a MicroVM that a MicroVMSet keeps Suspended in its warm pool ({@code
   * spec.suspendedReplicas}); it removes it, and sets {@code spec.runState: Running}, when scaling
   * up resumes the VM. A member suspended by a user through its own spec has no such label.
   */
  public static final String WARM_POOL_LABEL = "hearth.dev/warm-pool";

  /** Namespace of node Leases when the deployment does not say otherwise. */
  public static final String DEFAULT_LEASE_NAMESPACE = "hearth-system";

  /** Lease duration an agent should use unless configured otherwise. */
  public static final int DEFAULT_LEASE_DURATION_SECONDS = 40;

  /** Prefix of every node Lease name. */
  public static final String LEASE_NAME_PREFIX = "hearth-node-";

  /** Name of the Lease the agent on {@code nodeName} renews. */
  public static String leaseName(String nodeName) {
    return LEASE_NAME_PREFIX + nodeName;
  }

  /** Name of the operator's leader-election Lease (in the operator's namespace). */
  public static final String OPERATOR_LEADER_LEASE = "hearth-operator-leader";

  /** Condition types used in MicroVM and MicroVMNode status. */
  public static final class Conditions {
    private Conditions() {}

    /** MicroVM: the operator bound it to a node (True) or could not (False, with a reason). */
    public static final String SCHEDULED = "Scheduled";

    /** MicroVM: the guest runs. MicroVMNode: the agent's Lease is current. */
    public static final String READY = "Ready";

    /** MicroVM: the agent is restarting the VM (spec change or restart policy). */
    public static final String RESTARTING = "Restarting";

    /**
     * MicroVMNode: the operator's last node-health pass (Lease check, node-loss handling) succeeded
     * (True) or failed (False, reason ReconcileError, the error in the message).
     */
    public static final String HEALTH_CHECKED = "HealthChecked";

    /**
     * MicroVMNode: the operator allocated the node a guest subnet from the cluster range (True), or
     * could not (False, reason SubnetRangeExhausted).
     */
    public static final String SUBNET_ALLOCATED = "SubnetAllocated";

    /** Condition status values. */
    public static final String TRUE = "True";

    public static final String FALSE = "False";
    public static final String UNKNOWN = "Unknown";
  }

  /**
   * The reasons Hearth writes, in conditions and Events: the operator's, then the agent's. A
   * guest's own exit reason (Shutdown, Reset, InternalError, ...) comes from the VMM and is not
   * listed.
   */
  public static final class Reasons {
    private Reasons() {}

    // The operator's.

    public static final String BOUND = "Bound";
    public static final String UNSCHEDULABLE = "Unschedulable";
    public static final String NODE_NOT_FOUND = "NodeNotFound";
    public static final String NODE_LOST = "NodeLost";
    public static final String RESCHEDULED = "Rescheduled";
    public static final String LEASE_CURRENT = "LeaseCurrent";
    public static final String LEASE_EXPIRED = "LeaseExpired";
    public static final String RECONCILE_ERROR = "ReconcileError";
    public static final String HEALTH_CHECK_SUCCEEDED = "HealthCheckSucceeded";
    public static final String SUBNET_ALLOCATED = "SubnetAllocated";
    public static final String SUBNET_RANGE_EXHAUSTED = "SubnetRangeExhausted";

    /**
     * The node's agent has no file descriptors left for another VM: the VM fails once, it is not
     * retried on that node.
     */
    public static final String OUT_OF_FILE_DESCRIPTORS = "NodeOutOfFileDescriptors";

    // The agent's, about a VM's life.
    public static final String STARTING = "Starting";
    public static final String STARTED = "Started";
    public static final String RUNNING = "Running";
    public static final String BOOTED = "Booted";
    public static final String BACK_OFF = "BackOff";
    public static final String SPEC_CHANGED = "SpecChanged";
    public static final String LIMITS_UPDATED = "LimitsUpdated";
    public static final String GUEST_EXITED = "GuestExited";
    public static final String GUEST_FAILED = "GuestFailed";
    public static final String STOPPED = "Stopped";
    public static final String AGENT_SHUTDOWN = "AgentShutdown";

    // The agent's, about a spec.container VM's end (as a kubelet's container reasons).
    public static final String COMPLETED = "Completed";
    public static final String ERROR = "Error";
    public static final String CONTAINER_CANNOT_RUN = "ContainerCannotRun";

    // The agent's, about a VM's readiness probe (Ready's reasons; Unhealthy is the Event's).
    public static final String PROBE_PENDING = "ProbePending";
    public static final String PROBE_SUCCEEDED = "ProbeSucceeded";
    public static final String PROBE_FAILED = "ProbeFailed";
    public static final String UNHEALTHY = "Unhealthy";
    // The agent's, about a VM's run state (spec.runState, and suspend on agent shutdown).
    public static final String PAUSED = "Paused";
    public static final String RESUMED = "Resumed";
    public static final String SUSPENDED = "Suspended";
    public static final String RESTORED = "Restored";
    public static final String AGENT_STARTED = "AgentStarted";
    public static final String SUSPEND_FAILED = "SuspendFailed";
    public static final String RESTORE_FAILED = "RestoreFailed";

    // The agent's, about a VM it cannot run: the spec (valid, or beyond this node's VMM).
    public static final String INVALID_SPEC = "InvalidSpec";
    public static final String UNSUPPORTED_SPEC = "UnsupportedSpec";

    // The agent's, about a VM it cannot run: preparing it.
    public static final String IMAGE_NOT_FOUND = "ImageNotFound";
    public static final String IMAGE_CHECKSUM_MISMATCH = "ImageChecksumMismatch";
    public static final String IMAGE_DOWNLOAD_TIMEOUT = "ImageDownloadTimeout";
    public static final String IMAGE_FETCH_FAILED = "ImageFetchFailed";
    public static final String NETWORK_SETUP_FAILED = "NetworkSetupFailed";
    public static final String IMAGE_PULL_UNAUTHORIZED = "ImagePullUnauthorized";
    public static final String IMAGE_PULL_SECRET_UNUSABLE = "ImagePullSecretUnusable";
    public static final String IMAGE_UNSUPPORTED = "ImageUnsupported";
    public static final String IMAGE_LAYER_REFUSED = "ImageLayerRefused";

    // The agent's, about a VM's OCI images: being pulled, ready on the node.
    public static final String PULLING = "Pulling";
    public static final String PULLED = "Pulled";

    // The agent's, about a VM it cannot run: booting it.
    public static final String INVALID_VM_CONFIG = "InvalidVmConfig";
    public static final String KVM_UNAVAILABLE = "KvmUnavailable";
    public static final String KERNEL_LOAD_FAILED = "KernelLoadFailed";
    public static final String VM_CREATE_FAILED = "VmCreateFailed";
    public static final String VM_START_FAILED = "VmStartFailed";
    public static final String VMM_ERROR = "VmmError";
  }
}
