/**
 * VMM processes: the agent's VMs spread over child JVMs, each hosting up to a set number of them,
 * instead of all in the agent's own process. Creating a KVM VM walks every mapping of the creating
 * process under a lock ({@code mm_take_all_locks}) and every live VM's MMU notifier sees each
 * {@code munmap} of that process, so one process holding every VM of a node pays a cost that grows
 * with the square of its VMs; a process per thousand VMs bounds it. The agent and its children
 * speak length-prefixed frames over the child's stdin and stdout ({@link
 * dev.hearth.agent.vmmhost.Wire}); the child ({@link dev.hearth.agent.vmmhost.VmmHostMain}) runs
 * the embedded runtime ({@code runtime.VmmRuntime}) and runs no Kubernetes client. The agent reads
 * its children's frames as hostile input: a VMM process runs guest-facing code. A child's console
 * output goes through its {@link dev.hearth.agent.vmmhost.ConsoleRelay}, so that no guest's
 * printing waits on, or holds up, the one pipe its neighbours share.
 */
package dev.hearth.agent.vmmhost;
