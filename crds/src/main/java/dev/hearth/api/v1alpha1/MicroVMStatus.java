package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Observed state. The operator writes phase Pending/Scheduled, nodeName and the Scheduled
 * condition; the agent writes the runtime fields. Both patch status only.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Observed state of a MicroVM: the operator writes the placement (phase Pending or"
        + " Scheduled, nodeName), the node agent the rest.")
public class MicroVMStatus {

  @JsonPropertyDescription(
      "Where the VM is in its life: Pending, Scheduled, Starting, Running, Succeeded, Failed or Unknown.")
  private MicroVMPhase phase;

  @JsonPropertyDescription(
      "Latest observations of the VM's state (types Scheduled, Ready, Restarting), shaped like metav1.Condition.")
  @SchemaFrom(type = ConditionSchema[].class)
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("The metadata.generation that the agent last acted on.")
  private Long observedGeneration;

  @JsonPropertyDescription("The node the operator bound the VM to.")
  private String nodeName;

  @JsonPropertyDescription("Address, MAC and tap of each network interface.")
  private List<NetworkInterfaceStatus> network = new ArrayList<>();

  @JsonPropertyDescription(
      "Milliseconds from the VM's start to the guest's boot-complete signal (the boot-timer device).")
  private Long bootTimeMillis;

  @JsonPropertyDescription("When the VM last started (RFC 3339).")
  private String startTime;

  @JsonPropertyDescription("How many times the agent has restarted the VM.")
  private Integer restartCount;

  @JsonPropertyDescription("Why the guest last stopped.")
  private ExitStatus exit;

  @JsonPropertyDescription(
      "Where the VM's serial console is served and the certificate to expect there; written by"
          + " the node agent once the VM runs.")
  private ConsoleEndpoint console;

  @JsonPropertyDescription(
      "The run state the agent has reached: Running, Paused or Suspended (see spec.runState).")
  private RunState runState;

  @JsonPropertyDescription("The agent's last change of the run state, and how long it took.")
  private RunStateTransition runStateTransition;

  public MicroVMStatus() {}

  public ConsoleEndpoint getConsole() {
    return console;
  }

  public void setConsole(ConsoleEndpoint console) {
    this.console = console;
  }

  public MicroVMPhase getPhase() {
    return phase;
  }

  public void setPhase(MicroVMPhase phase) {
    this.phase = phase;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public String getNodeName() {
    return nodeName;
  }

  public void setNodeName(String nodeName) {
    this.nodeName = nodeName;
  }

  public List<NetworkInterfaceStatus> getNetwork() {
    return network;
  }

  public void setNetwork(List<NetworkInterfaceStatus> network) {
    this.network = network;
  }

  public Long getBootTimeMillis() {
    return bootTimeMillis;
  }

  public void setBootTimeMillis(Long bootTimeMillis) {
    this.bootTimeMillis = bootTimeMillis;
  }

  public String getStartTime() {
    return startTime;
  }

  public void setStartTime(String startTime) {
    this.startTime = startTime;
  }

  public Integer getRestartCount() {
    return restartCount;
  }

  public void setRestartCount(Integer restartCount) {
    this.restartCount = restartCount;
  }

  public ExitStatus getExit() {
    return exit;
  }

  public void setExit(ExitStatus exit) {
    this.exit = exit;
  }

  public RunState getRunState() {
    return runState;
  }

  public void setRunState(RunState runState) {
    this.runState = runState;
  }

  public RunStateTransition getRunStateTransition() {
    return runStateTransition;
  }

  public void setRunStateTransition(RunStateTransition runStateTransition) {
    this.runStateTransition = runStateTransition;
  }

  /** The condition of this type, if present. */
  public Optional<Condition> condition(String type) {
    if (conditions == null) {
      return Optional.empty();
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /**
   * Sets a condition, replacing one of the same type. lastTransitionTime changes only when the
   * status value changes, as metav1.Condition requires.
   */
  public void putCondition(Condition condition) {
    Conditions.put(conditionsOrNew(), condition);
  }

  private List<Condition> conditionsOrNew() {
    if (conditions == null) {
      conditions = new ArrayList<>();
    }
    return conditions;
  }
}
