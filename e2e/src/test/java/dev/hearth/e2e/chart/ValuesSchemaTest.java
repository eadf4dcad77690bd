package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * values.schema.json turns a bad value into a failed install that names the key. Helm reports every
 * schema violation at once, so the cases share a few helm runs (one per set of distinct keys) and
 * each must show up in the error by its JSON pointer.
 */
class ValuesSchemaTest {

  /** A bad --set and the place in the error that must name it. */
  private static final Map<String, String> BAD = new LinkedHashMap<>();

  static {
    BAD.put("agent.kvmAccess=maybe", "at '/agent/kvmAccess'");
    BAD.put("agent.httpPort=70000", "at '/agent/httpPort'");
    BAD.put("agent.httpPort=http", "at '/agent/httpPort'");
    BAD.put("agent.dataDir=relative/path", "at '/agent/dataDir'");
    BAD.put("agent.network.subnet=10.0.0.0/33", "at '/agent/network/subnet'");
    BAD.put("agent.network.subnet=300.1.1.0/24", "at '/agent/network/subnet'");
    BAD.put("agent.network.bridge=a-bridge-name-too-long", "at '/agent/network/bridge'");
    BAD.put("agent.reserved.memoryMiB=-1", "at '/agent/reserved/memoryMiB'");
    BAD.put("agent.updateStrategy.type=Recreate", "at '/agent/updateStrategy/type'");
    BAD.put("agent.tolerations[0].operator=Maybe", "at '/agent/tolerations/0/operator'");
    BAD.put("agent.devicePluginResources[0]=kvm", "at '/agent/devicePluginResources/0'");
    BAD.put("agent.devicePlugin.devicesPerNode=0", "at '/agent/devicePlugin/devicesPerNode'");
    BAD.put("agent.disk.imageCacheMiB=0", "at '/agent/disk/imageCacheMiB'");
    BAD.put("agent.leaseDurationSeconds=2", "at '/agent/leaseDurationSeconds'");
    BAD.put("agent.nodeSelector.gpu=true", "at '/agent/nodeSelector/gpu'");
    BAD.put("agent.privileged=false", "additional properties 'privileged' not allowed");
    BAD.put("operator.replicas=0", "at '/operator/replicas'");
    BAD.put("operator.scheduling.strategy=random", "at '/operator/scheduling/strategy'");
    BAD.put(
        "operator.nodeLoss.gracePeriodSeconds=-5", "at '/operator/nodeLoss/gracePeriodSeconds'");
    BAD.put("operator.image.pullPolicy=Sometimes", "at '/operator/image/pullPolicy'");
    BAD.put("operator.image.tag=not a tag", "at '/operator/image/tag'");
    BAD.put("operator.resources.requests.cpu=lots", "at '/operator/resources/requests/cpu'");
    BAD.put("operator.logLevel=loud", "at '/operator/logLevel'");
    BAD.put("metrics.serviceMonitor.interval=soon", "at '/metrics/serviceMonitor/interval'");
    BAD.put("rbac.create=maybe", "at '/rbac/create'");
    BAD.put("uninstall.timeoutSeconds=0", "at '/uninstall/timeoutSeconds'");
    BAD.put("uninstall.deleteMicroVMs=yes", "at '/uninstall/deleteMicroVMs'");
    BAD.put("imagePullSecrets[0]=Reg_Cred", "at '/imagePullSecrets/0'");
    BAD.put("nonsense=1", "additional properties 'nonsense' not allowed");
  }

  @Test
  void rejectsEachBadValueNamingItsKey() {
    SoftAssertions softly = new SoftAssertions();
    for (List<String> run : runsWithDistinctKeys(List.copyOf(BAD.keySet()))) {
      List<String> args = new ArrayList<>();
      run.forEach(set -> args.addAll(List.of("--set", set)));
      Helm.Result r = Helm.template(args.toArray(String[]::new));
      assertThat(r.status()).as("helm template %s", args).isNotZero();
      assertThat(r.stderr()).contains("values don't meet the specifications of the schema");
      for (String set : run) {
        softly.assertThat(r.stderr()).as("the error for --set %s", set).contains(BAD.get(set));
      }
    }
    softly.assertAll();
  }

  @Test
  void acceptsGoodOverrides() {
    Helm.template(
            "--set", "agent.kvmAccess=privileged",
            "--set", "agent.devicePlugin.devicesPerNode=4",
            "--set", "agent.network.subnet=192.168.100.0/22",
            "--set", "agent.updateStrategy.type=OnDelete",
            "--set", "agent.tolerations[0].operator=Exists",
            "--set-string", "agent.nodeSelector.gpu=true",
            "--set", "operator.scheduling.strategy=pack",
            "--set", "operator.resources.requests.cpu=0.5",
            "--set", "operator.image.tag=1.2.3-rc.1",
            "--set", "imagePullSecrets[0]=registry.cred")
        .assertSucceeded();
  }

  /** Splits the --set arguments into runs in which no key is set twice (the last would win). */
  private static List<List<String>> runsWithDistinctKeys(List<String> sets) {
    List<List<String>> runs = new ArrayList<>();
    for (String set : sets) {
      String key = set.substring(0, set.indexOf('='));
      List<String> run =
          runs.stream()
              .filter(r -> r.stream().noneMatch(s -> s.startsWith(key + "=")))
              .findFirst()
              .orElseGet(
                  () -> {
                    List<String> fresh = new ArrayList<>();
                    runs.add(fresh);
                    return fresh;
                  });
      run.add(set);
    }
    return runs;
  }
}
