package dev.hearth.api.validation;

import com.google.common.collect.ImmutableCollection;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.navigation.CelNavigableExpr;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Evaluates the {@code x-kubernetes-validations} of a CRD the way the API server does, whatever
 * rules the CRD carries: {@code hearth run} refuses with it what a cluster would, and the CRD tests
 * show with it that a bad manifest is rejected with the rule's message and a good one is not.
 *
 * <p>Like the API server, it type-checks every rule against the type the schema gives {@code self}
 * (objects become structs with the schema's fields, so a rule naming a field that does not exist
 * fails to compile), requires a bool result, evaluates a rule only where its value is present, and
 * evaluates transition rules (those naming {@code oldSelf}) only on an update where the old value
 * can be correlated: through object properties and map keys, never into list items. An evaluation
 * error rejects the object, as it does on the server. A rule's {@code fieldPath} moves the reported
 * path, and its {@code messageExpression} (a string expression over {@code self}) words the
 * message. Not modelled here: schema defaulting before validation ({@link CrdValidator} does it),
 * the cost budget (the server checks it when the CRD is installed), and those of Kubernetes' own
 * CEL libraries that {@link KubernetesCelLibrary} lacks. Root rules see {@code metadata.name} and
 * {@code metadata.generateName}, as on the server.
 */
public final class CelRules {

  /**
   * A rule that rejected the object: the field path, the rule and the message users see.
   *
   * @param path the field, dotted from the root with list indexes ({@code spec.drives[1].name}), or
   *     {@code <root>}
   * @param type the schema type where the rule is declared ({@code object}, {@code string}...),
   *     which the API server prints as the invalid value
   */
  public record Violation(String path, String rule, String message, String type) {
    @Override
    public String toString() {
      return path + ": " + message;
    }

    /** As the API server words it: {@code path: Invalid value: "type": message}. */
    public String asServerSays() {
      return path + ": Invalid value: \"" + type + "\": " + message;
    }
  }

  private record Compiled(
      String rule,
      String message,
      Optional<CelRuntime.Program> messageExpression,
      String fieldPath,
      boolean transition,
      CelRuntime.Program p) {}

  private final JSONSchemaProps root;
  private final Map<JSONSchemaProps, List<Compiled>> bySchema = new HashMap<>();
  private final List<String> compiledRules = new ArrayList<>();

  /**
   * Compiles every rule of {@code crd}'s first version.
   *
   * @throws IllegalStateException naming the rule that does not compile or is not a bool
   */
  public CelRules(CustomResourceDefinition crd) {
    // At the root the API server lets rules read metadata.name and metadata.generateName only,
    // typed as strings.
    JSONSchemaProps string = new JSONSchemaPropsBuilder().withType("string").build();
    this.root =
        new JSONSchemaPropsBuilder(
                crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema())
            .addToProperties(
                "metadata",
                new JSONSchemaPropsBuilder()
                    .withType("object")
                    .addToProperties("name", string)
                    .addToProperties("generateName", string)
                    .build())
            .build();
    String kind = crd.getSpec().getNames().getKind();
    Map<String, CelType> structs = new LinkedHashMap<>();
    compileAll(root, kind, structs);
  }

  /** Every rule of the CRD, in schema order, each compiled and type-checked once per place. */
  public List<String> compiledRules() {
    return List.copyOf(compiledRules);
  }

  /** What rejects {@code object} (JSON as maps, lists and scalars) on create. */
  public List<Violation> validate(Map<String, Object> object) {
    List<Violation> out = new ArrayList<>();
    walk("", root, celValue(object), null, false, out);
    return out;
  }

  /** What rejects an update from {@code old} to {@code object}. */
  public List<Violation> validateUpdate(Map<String, Object> object, Map<String, Object> old) {
    List<Violation> out = new ArrayList<>();
    walk("", root, celValue(object), celValue(old), true, out);
    return out;
  }

  // ---- compiling

  private void compileAll(JSONSchemaProps s, String path, Map<String, CelType> structs) {
    if (s.getXKubernetesValidations() != null && !s.getXKubernetesValidations().isEmpty()) {
      Cel cel = celFor(typeOf(s, path, structs), structs);
      List<Compiled> compiled = new ArrayList<>();
      for (ValidationRule v : s.getXKubernetesValidations()) {
        compiled.add(compile(cel, v, path));
      }
      bySchema.put(s, compiled);
    }
    if (s.getProperties() != null) {
      s.getProperties().forEach((name, child) -> compileAll(child, path + "." + name, structs));
    }
    if (s.getItems() != null && s.getItems().getSchema() != null) {
      compileAll(s.getItems().getSchema(), path + "[]", structs);
    }
    if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
      compileAll(s.getAdditionalProperties().getSchema(), path + "{}", structs);
    }
  }

  /**
   * One environment per place that carries rules: self and oldSelf have that place's type. Rules
   * must be bool; a messageExpression (compiled in the same environment) must be a string.
   */
  private static Cel celFor(CelType selfType, Map<String, CelType> structs) {
    return KubernetesCelLibrary.configure(
            CelFactory.standardCelBuilder()
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .setTypeProvider(new Structs(Map.copyOf(structs))))
        .addVar("self", selfType)
        .addVar("oldSelf", selfType)
        .build();
  }

  private Compiled compile(Cel cel, ValidationRule v, String path) {
    CelAbstractSyntaxTree ast = check(cel, v.getRule(), SimpleType.BOOL, path);
    try {
      boolean transition = referencesOldSelf(ast.getExpr());
      compiledRules.add(v.getRule());
      String message = v.getMessage() != null ? v.getMessage() : "failed rule: " + v.getRule();
      Optional<CelRuntime.Program> messageExpression = Optional.empty();
      if (v.getMessageExpression() != null && !v.getMessageExpression().isBlank()) {
        messageExpression =
            Optional.of(
                cel.createProgram(check(cel, v.getMessageExpression(), SimpleType.STRING, path)));
      }
      String fieldPath = v.getFieldPath() == null ? "" : v.getFieldPath();
      return new Compiled(
          v.getRule(), message, messageExpression, fieldPath, transition, cel.createProgram(ast));
    } catch (CelEvaluationException e) {
      throw new IllegalStateException("rule at " + path + " cannot run: " + v.getRule(), e);
    }
  }

  /** The expression compiled and type-checked, with the result type the API server requires. */
  private static CelAbstractSyntaxTree check(Cel cel, String expr, CelType result, String path) {
    CelValidationResult compiled = cel.compile(expr);
    if (compiled.hasError()) {
      throw new IllegalStateException(
          "rule at " + path + " does not compile: " + expr + "\n" + compiled.getErrorString());
    }
    try {
      CelAbstractSyntaxTree ast = compiled.getAst();
      if (!ast.getResultType().equals(result) && !ast.getResultType().equals(SimpleType.DYN)) {
        throw new IllegalStateException(
            "rule at "
                + path
                + " must be a "
                + result.name()
                + " expression, not "
                + ast.getResultType().name()
                + ": "
                + expr);
      }
      return ast;
    } catch (CelValidationException e) {
      throw new IllegalStateException("rule at " + path + " does not compile: " + expr, e);
    }
  }

  /** Whether the rule names oldSelf: the API server's test for a transition rule. */
  private static boolean referencesOldSelf(CelExpr e) {
    return CelNavigableExpr.fromExpr(e)
        .allNodes()
        .anyMatch(
            n ->
                n.getKind() == CelExpr.ExprKind.Kind.IDENT
                    && n.expr().ident().name().equals("oldSelf"));
  }

  /** The CEL type the API server gives a value of this schema. */
  private static CelType typeOf(JSONSchemaProps s, String path, Map<String, CelType> structs) {
    String type = s.getType() == null ? "" : s.getType();
    return switch (type) {
      case "integer" -> SimpleType.INT;
      case "number" -> SimpleType.DOUBLE;
      case "boolean" -> SimpleType.BOOL;
      case "string" -> SimpleType.STRING;
      case "array" ->
          s.getItems() == null || s.getItems().getSchema() == null
              ? ListType.create(SimpleType.DYN)
              : ListType.create(typeOf(s.getItems().getSchema(), path + "[]", structs));
      case "object" -> {
        if (s.getProperties() != null && !s.getProperties().isEmpty()) {
          Map<String, CelType> fields = new LinkedHashMap<>();
          s.getProperties()
              .forEach(
                  (name, child) -> fields.put(name, typeOf(child, path + "." + name, structs)));
          String name = "hearth.schema" + path.replaceAll("[^A-Za-z0-9.]", "_");
          StructType struct =
              StructType.create(
                  name,
                  ImmutableSet.copyOf(fields.keySet()),
                  f -> Optional.ofNullable(fields.get(f)));
          structs.put(name, struct);
          yield struct;
        }
        if (s.getAdditionalProperties() != null
            && s.getAdditionalProperties().getSchema() != null) {
          yield MapType.create(
              SimpleType.STRING,
              typeOf(s.getAdditionalProperties().getSchema(), path + "{}", structs));
        }
        yield MapType.create(SimpleType.STRING, SimpleType.DYN);
      }
      default -> SimpleType.DYN;
    };
  }

  /** The struct types made from the schema, for the type checker. */
  private record Structs(Map<String, CelType> byName) implements CelTypeProvider {
    @Override
    public ImmutableCollection<CelType> types() {
      return ImmutableList.copyOf(byName.values());
    }

    @Override
    public Optional<CelType> findType(String name) {
      return Optional.ofNullable(byName.get(name));
    }
  }

  // ---- evaluating

  private void walk(
      String path,
      JSONSchemaProps s,
      Object value,
      Object old,
      boolean update,
      List<Violation> out) {
    if (value == null) {
      return;
    }
    for (Compiled c : bySchema.getOrDefault(s, List.of())) {
      if (c.transition() && (!update || old == null)) {
        continue;
      }
      Map<String, Object> vars = new HashMap<>();
      vars.put("self", value);
      if (c.transition()) {
        vars.put("oldSelf", old);
      }
      String at = path + (c.fieldPath().startsWith(".") || c.fieldPath().isEmpty() ? "" : ".");
      String where = (at + c.fieldPath()).isEmpty() ? "<root>" : (at + c.fieldPath()).substring(1);
      try {
        if (!Boolean.TRUE.equals(c.p().eval(vars))) {
          out.add(new Violation(where, c.rule(), message(c, vars), String.valueOf(s.getType())));
        }
      } catch (CelEvaluationException e) {
        out.add(
            new Violation(
                where,
                c.rule(),
                "evaluation error: " + e.getMessage(),
                String.valueOf(s.getType())));
      }
    }
    if (s.getProperties() != null && value instanceof Map<?, ?> m) {
      Map<?, ?> oldMap = old instanceof Map<?, ?> om ? om : null;
      for (var e : s.getProperties().entrySet()) {
        walk(
            path + "." + e.getKey(),
            e.getValue(),
            m.get(e.getKey()),
            oldMap == null ? null : oldMap.get(e.getKey()),
            update,
            out);
      }
    }
    if (s.getItems() != null && s.getItems().getSchema() != null && value instanceof List<?> l) {
      // Atomic lists: items have no old counterpart.
      for (int i = 0; i < l.size(); i++) {
        walk(path + "[" + i + "]", s.getItems().getSchema(), l.get(i), null, update, out);
      }
    }
    if (s.getAdditionalProperties() != null
        && s.getAdditionalProperties().getSchema() != null
        && value instanceof Map<?, ?> m) {
      Map<?, ?> oldMap = old instanceof Map<?, ?> om ? om : null;
      for (var e : m.entrySet()) {
        walk(
            path + "." + e.getKey(),
            s.getAdditionalProperties().getSchema(),
            e.getValue(),
            oldMap == null ? null : oldMap.get(e.getKey()),
            update,
            out);
      }
    }
  }

  /**
   * The rule's message: its messageExpression where that evaluates to a non-empty string (the API
   * server falls back to the static message otherwise), else its message.
   */
  private static String message(Compiled c, Map<String, Object> vars) {
    if (c.messageExpression().isPresent()) {
      try {
        Object m = c.messageExpression().get().eval(vars);
        if (m instanceof String text && !text.isBlank() && !text.contains("\n")) {
          return text;
        }
      } catch (CelEvaluationException e) {
        // Falls back to the static message, as the API server does.
      }
    }
    return c.message();
  }

  /** JSON as CEL sees it: int64 integers, doubles, and nested maps and lists of those. */
  private static Object celValue(Object json) {
    return switch (json) {
      case null -> null;
      case Integer i -> i.longValue();
      case Short i -> i.longValue();
      case Float f -> f.doubleValue();
      case java.math.BigInteger b -> b.longValueExact();
      case java.math.BigDecimal b -> b.doubleValue();
      case Map<?, ?> m -> {
        Map<String, Object> copy = new LinkedHashMap<>();
        m.forEach(
            (k, v) -> {
              if (v != null) {
                copy.put(String.valueOf(k), celValue(v));
              }
            });
        yield copy;
      }
      case List<?> l -> l.stream().map(CelRules::celValue).toList();
      default -> json;
    };
  }
}
