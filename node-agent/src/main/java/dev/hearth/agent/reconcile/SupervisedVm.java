package dev.hearth.agent.reconcile;

/**
 * The VM a {@link VmSupervisor} drives, as the parts it hands work to see it: the agent's context,
 * the VM's names, where it is ({@link RunTracker}) and how it is reported ({@link VmStatusWriter},
 * {@link VmEvents}).
 */
record SupervisedVm(
    AgentContext ctx,
    String namespace,
    String name,
    String uid,
    RunTracker runs,
    VmStatusWriter status,
    VmEvents events) {}
