/**
 * Validation of Hearth's custom resources as the API server does it, without one: metadata rules,
 * the CRD's structural schema and every CEL rule it carries. {@code hearth run} refuses with it
 * what a cluster would refuse; the CRD tests exercise the rules with it. Uses only the API model
 * and the generated CRDs on the classpath; knows nothing of the agent or the VMM.
 */
package dev.hearth.api.validation;
