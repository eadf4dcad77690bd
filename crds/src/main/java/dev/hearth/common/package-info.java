/**
 * What the operator and the node agent share besides the API types: the build's version and the log
 * level setting, so that both programs report and configure them the same way.
 */
package dev.hearth.common;
