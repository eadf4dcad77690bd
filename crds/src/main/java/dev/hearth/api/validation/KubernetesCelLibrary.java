package dev.hearth.api.validation;

import dev.cel.bundle.CelBuilder;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOptions;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.types.ListType;
import dev.cel.common.types.SimpleType;
import dev.cel.extensions.CelExtensions;
import dev.cel.runtime.CelFunctionBinding;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of the API server's CEL environment for CRD rules that cel-java does not ship: the
 * strings and sets extensions, and Kubernetes' {@code isIP}, {@code isCIDR}, {@code isURL}, {@code
 * find} and {@code findAll}. A rule using another Kubernetes function fails to compile here,
 * loudly, rather than passing unchecked; add it here when a rule needs it.
 */
final class KubernetesCelLibrary {
  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");

  private KubernetesCelLibrary() {}

  static CelBuilder configure(CelBuilder builder) {
    return builder
        .addCompilerLibraries(CelExtensions.strings(), CelExtensions.sets(CelOptions.DEFAULT))
        .addRuntimeLibraries(CelExtensions.strings(), CelExtensions.sets(CelOptions.DEFAULT))
        .addFunctionDeclarations(
            global("isIP", "is_ip_string"),
            global("isCIDR", "is_cidr_string"),
            global("isURL", "is_url_string"),
            CelFunctionDecl.newFunctionDeclaration(
                "find",
                CelOverloadDecl.newMemberOverload(
                    "string_find_string", SimpleType.STRING, SimpleType.STRING, SimpleType.STRING)),
            CelFunctionDecl.newFunctionDeclaration(
                "findAll",
                CelOverloadDecl.newMemberOverload(
                    "string_find_all_string",
                    ListType.create(SimpleType.STRING),
                    SimpleType.STRING,
                    SimpleType.STRING)))
        .addFunctionBindings(
            CelFunctionBinding.from("is_ip_string", String.class, KubernetesCelLibrary::isIp),
            CelFunctionBinding.from("is_cidr_string", String.class, KubernetesCelLibrary::isCidr),
            CelFunctionBinding.from("is_url_string", String.class, KubernetesCelLibrary::isUrl),
            CelFunctionBinding.from(
                "string_find_string",
                String.class,
                String.class,
                (s, re) -> {
                  Matcher m = Pattern.compile(re).matcher(s);
                  return m.find() ? m.group() : "";
                }),
            CelFunctionBinding.from(
                "string_find_all_string",
                String.class,
                String.class,
                (s, re) -> {
                  List<String> all = new ArrayList<>();
                  Matcher m = Pattern.compile(re).matcher(s);
                  while (m.find()) {
                    all.add(m.group());
                  }
                  return all;
                }));
  }

  private static CelFunctionDecl global(String name, String overload) {
    return CelFunctionDecl.newFunctionDeclaration(
        name, CelOverloadDecl.newGlobalOverload(overload, SimpleType.BOOL, SimpleType.STRING));
  }

  /** An IPv4 address without leading zeros, or an IPv6 address without a zone. */
  static boolean isIp(String s) {
    if (IPV4.matcher(s).matches()) {
      return true;
    }
    if (!s.contains(":") || s.contains("%") || !s.matches("[0-9A-Fa-f:.]+")) {
      return false;
    }
    try {
      InetAddress.ofLiteral(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** An address, a slash and a prefix length that fits it (no leading zeros). */
  static boolean isCidr(String s) {
    int slash = s.indexOf('/');
    if (slash < 0 || !isIp(s.substring(0, slash))) {
      return false;
    }
    String bits = s.substring(slash + 1);
    if (!bits.matches("0|[1-9][0-9]{0,2}")) {
      return false;
    }
    int max = s.substring(0, slash).contains(":") ? 128 : 32;
    return Integer.parseInt(bits) <= max;
  }

  /** An absolute URL with a scheme, as Go's url.Parse and Kubernetes' isURL accept. */
  static boolean isUrl(String s) {
    try {
      URI u = new URI(s);
      return u.getScheme() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
