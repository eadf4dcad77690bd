package dev.hearth.agent.spec;

import dev.hearth.agent.net.GuestPolicy;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.api.v1alpha1.EgressPort;
import dev.hearth.api.v1alpha1.NetworkPolicySpec;
import dev.hearth.api.v1alpha1.PeerRule;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code spec.networkPolicy} to {@link VmPlan.NetworkPolicyPlan}, re-checking what the CRD's schema
 * and CEL rules enforce with the same limits: the CIDRs and ports end up in nftables rules.
 */
final class NetworkPolicies {
  private NetworkPolicies() {}

  static VmPlan.NetworkPolicyPlan map(NetworkPolicySpec spec) throws SpecRejectedException {
    if (spec == null) {
      return VmPlan.NetworkPolicyPlan.DEFAULT;
    }
    List<GuestPolicy.Egress> egress = rules(spec.getEgress(), "spec.networkPolicy.egress");
    List<GuestPolicy.Ingress> ingress = new ArrayList<>();
    for (GuestPolicy.Egress r : rules(spec.getIngress(), "spec.networkPolicy.ingress")) {
      ingress.add(new GuestPolicy.Ingress(r.to(), r.ports()));
    }
    return new VmPlan.NetworkPolicyPlan(spec.allowSameNamespaceOrDefault(), egress, ingress);
  }

  /** The rules of list {@code field} (egress or ingress), each a peer network and its ports. */
  private static List<GuestPolicy.Egress> rules(List<PeerRule> rules, String field)
      throws SpecRejectedException {
    List<PeerRule> all = rules == null ? List.of() : rules;
    if (all.size() > NetworkPolicySpec.MAX_EGRESS_RULES) {
      throw invalid(
          field + " has " + all.size() + " rules; at most " + NetworkPolicySpec.MAX_EGRESS_RULES);
    }
    List<GuestPolicy.Egress> parsed = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      parsed.add(rule(all.get(i), field + "[" + i + "]"));
    }
    return parsed;
  }

  private static GuestPolicy.Egress rule(PeerRule r, String field) throws SpecRejectedException {
    if (r == null || r.getCidr() == null) {
      throw invalid(field + ".cidr is required");
    }
    IpBlock to;
    try {
      to = IpBlock.parse(r.getCidr());
    } catch (IllegalArgumentException e) {
      throw invalid(field + ".cidr: " + e.getMessage());
    }
    List<EgressPort> ports = r.getPorts() == null ? List.of() : r.getPorts();
    if (ports.size() > PeerRule.MAX_PORTS) {
      throw invalid(
          field + ".ports has " + ports.size() + " entries; at most " + PeerRule.MAX_PORTS);
    }
    List<GuestPolicy.Ports> open = new ArrayList<>();
    for (int i = 0; i < ports.size(); i++) {
      open.add(ports(ports.get(i), field + ".ports[" + i + "]"));
    }
    return new GuestPolicy.Egress(to, open);
  }

  private static GuestPolicy.Ports ports(EgressPort p, String field) throws SpecRejectedException {
    if (p == null) {
      throw invalid(field + " is empty");
    }
    GuestPolicy.Protocol protocol = GuestPolicy.Protocol.valueOf(p.protocolOrDefault().name());
    if (p.getPort() == null) {
      if (p.getEndPort() != null) {
        throw invalid(field + ".endPort needs port: it ends the range that port starts");
      }
      return GuestPolicy.Ports.all(protocol);
    }
    int first = p.getPort();
    int last = p.getEndPort() == null ? first : p.getEndPort();
    if (first < 1 || last > EgressPort.MAX_PORT) {
      throw invalid(field + ": ports must be 1 to " + EgressPort.MAX_PORT);
    }
    if (last < first) {
      throw invalid(field + ".endPort " + last + " is below port " + first);
    }
    return new GuestPolicy.Ports(protocol, first, last);
  }

  private static SpecRejectedException invalid(String message) {
    return new SpecRejectedException(SpecRejectedException.INVALID, message);
  }
}
