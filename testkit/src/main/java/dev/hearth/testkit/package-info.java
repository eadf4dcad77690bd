/**
 * Test support shared by every module: a real Kubernetes control plane (etcd, kube-apiserver with
 * RBAC and the default admission plugins, kube-controller-manager) started by the repository's
 * {@code test-cluster/control-plane.sh}, or the cluster {@code KUBECONFIG} names.
 *
 * <p>{@link dev.hearth.testkit.ControlPlane#shared()} is the entry point. {@link
 * dev.hearth.testkit.Registry} is a real OCI registry on loopback (Debian's docker-registry), to
 * which tests push images they describe with {@link dev.hearth.testkit.OciLayout}. This package
 * knows nothing of Hearth's own modules, so any of them can use it in test scope.
 */
package dev.hearth.testkit;
