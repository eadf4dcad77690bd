/**
 * Running an ordinary container image in a microVM ({@code spec.container}): the image config's
 * defaults merged with the spec by Docker's rules ({@link ContainerProcess}), and the per-VM config
 * that reaches Hearth's guest init as an archive appended to its initramfs ({@link
 * ContainerInitrd}).
 */
package dev.hearth.agent.container;
