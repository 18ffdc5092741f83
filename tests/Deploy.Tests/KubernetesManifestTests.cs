using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using PgVideoChat.Relay;
using PgVideoChat.Relay.Replication;
using YamlDotNet.RepresentationModel;

namespace PgVideoChat.Deploy.Tests;

/// <summary>deploy/kubernetes agrees with the code: names, probes, ports and every environment key.</summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly List<YamlMappingNode> Documents = Load();

    [Fact]
    public void The_relay_is_a_StatefulSet_whose_pod_names_are_its_instance_ids_and_valid_slot_names()
    {
        var statefulSet = Single("StatefulSet", "relay");
        var spec = Map(statefulSet, "spec");
        var headless = Single("Service", Scalar(spec, "serviceName"));
        Assert.Equal("None", Scalar(Map(headless, "spec"), "clusterIP"));

        var env = Env(RelayContainer());
        Assert.Equal("metadata.name", Scalar(Map(Map(env["Relay__InstanceId"], "valueFrom"), "fieldRef"), "fieldPath"));
        var replicas = int.Parse(Scalar(spec, "replicas"), System.Globalization.CultureInfo.InvariantCulture);
        var instanceIdRule = typeof(RelayOptions).GetProperty(nameof(RelayOptions.InstanceId))!
            .GetCustomAttribute<System.ComponentModel.DataAnnotations.RegularExpressionAttribute>()!;
        for (var i = 0; i < replicas; i++)
        {
            var podName = $"relay-{i}";
            Assert.True(instanceIdRule.IsValid(podName), $"{podName} is not a valid Relay:InstanceId");
            Assert.Matches(SlotName(), ReplicationSlot.NameFor(podName));
        }
    }

    [Fact]
    public void Every_relay_environment_key_binds_to_a_real_option_and_the_required_ones_are_there()
    {
        var env = Env(RelayContainer());
        foreach (var key in env.Keys.Where(k => k.StartsWith("Relay__", StringComparison.Ordinal)))
        {
            Assert.True(Binds(typeof(RelayOptions), key.Split("__").Skip(1).ToArray()), $"{key} does not bind to a property of RelayOptions");
        }

        Assert.Contains($"ConnectionStrings__{RelayExtensions.DatabaseName}", env.Keys);
        Assert.Equal("secretKeyRef", ((YamlMappingNode)env[$"ConnectionStrings__{RelayExtensions.DatabaseName}"]["valueFrom"]).Children.Keys.Single().ToString());
        Assert.Equal("secretKeyRef", ((YamlMappingNode)env["Relay__Auth__SigningKey"]["valueFrom"]).Children.Keys.Single().ToString());
        Assert.Contains("Relay__AllowedOrigins__0", env.Keys);
    }

    [Fact]
    public void Probes_use_the_service_defaults_endpoints_on_the_port_the_app_listens_on()
    {
        var health = ServiceDefaultsPath("HealthEndpointPath");
        var alive = ServiceDefaultsPath("AlivenessEndpointPath");
        foreach (var (container, _) in new[] { (RelayContainer(), "relay"), (Container(Single("Deployment", "webclient")), "webclient") })
        {
            Assert.Equal(health, Scalar(Map(Map(container, "readinessProbe"), "httpGet"), "path"));
            Assert.Equal(alive, Scalar(Map(Map(container, "livenessProbe"), "httpGet"), "path"));
            var port = (YamlMappingNode)((YamlSequenceNode)container["ports"]).Children.Single();
            Assert.Equal(Scalar(port, "name"), Scalar(Map(Map(container, "readinessProbe"), "httpGet"), "port"));
            var urls = Scalar(Env(container)["ASPNETCORE_URLS"], "value");
            Assert.EndsWith(":" + Scalar(port, "containerPort"), urls, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Selectors_references_and_the_web_clients_service_discovery_key_line_up()
    {
        var labels = Map(Map(Map(Map(Single("StatefulSet", "relay"), "spec"), "template"), "metadata"), "labels");
        foreach (var selector in new[]
        {
            Map(Map(Map(Single("StatefulSet", "relay"), "spec"), "selector"), "matchLabels"),
            Map(Map(Map(Single("PodDisruptionBudget", "relay"), "spec"), "selector"), "matchLabels"),
            Map(Map(Single("Service", "relay"), "spec"), "selector"),
            Map(Map(Single("Service", "relay-headless"), "spec"), "selector"),
        })
        {
            foreach (var (key, value) in selector.Children)
            {
                Assert.Equal(value.ToString(), labels[key].ToString());
            }
        }

        // The web client reads services:relay:http:0 (WebClientEndpoints), the key Aspire's service discovery sets.
        var webEnv = Env(Container(Single("Deployment", "webclient")));
        Assert.Contains("services__relay__http__0", webEnv.Keys);
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "WebClient", "WebClientEndpoints.cs"));
        Assert.Contains("\"services:relay:http:0\"", source, StringComparison.Ordinal);

        // Every ConfigMap key referenced exists.
        var config = Map(Single("ConfigMap", "pgvideochat"), "data");
        foreach (var reference in Documents.SelectMany(Descendants).OfType<YamlMappingNode>()
            .Where(m => m.Children.ContainsKey("configMapKeyRef")).Select(m => Map(m, "configMapKeyRef")))
        {
            Assert.Equal("pgvideochat", Scalar(reference, "name"));
            Assert.True(config.Children.ContainsKey(Scalar(reference, "key")), $"ConfigMap key {Scalar(reference, "key")} is missing");
        }
    }

    private static bool Binds(Type type, string[] path)
    {
        if (path.Length == 0)
        {
            return true;
        }

        if (typeof(IEnumerable).IsAssignableFrom(type) && type != typeof(string))
        {
            return int.TryParse(path[0], out _) && Binds(type.GetGenericArguments().Single(), path[1..]);
        }

        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is not null && Binds(property.PropertyType, path[1..]);
    }

    private static string ServiceDefaultsPath(string constant)
        => (string)typeof(Extensions).GetField(constant, BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;

    private static YamlMappingNode RelayContainer() => Container(Single("StatefulSet", "relay"));

    private static YamlMappingNode Container(YamlMappingNode workload)
        => (YamlMappingNode)((YamlSequenceNode)Map(Map(Map(workload, "spec"), "template"), "spec")["containers"]).Children.Single();

    private static Dictionary<string, YamlMappingNode> Env(YamlMappingNode container)
        => ((YamlSequenceNode)container["env"]).Children.Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "name"));

    private static YamlMappingNode Single(string kind, string name)
        => Documents.Single(d => Scalar(d, "kind") == kind && Scalar(Map(d, "metadata"), "name") == name);

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node[key];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value!;

    private static IEnumerable<YamlNode> Descendants(YamlNode node)
    {
        yield return node;
        var children = node switch
        {
            YamlMappingNode map => map.Children.Values,
            YamlSequenceNode sequence => sequence.Children,
            _ => (IEnumerable<YamlNode>)[],
        };
        foreach (var child in children.SelectMany(Descendants))
        {
            yield return child;
        }
    }

    private static List<YamlMappingNode> Load()
    {
        var documents = new List<YamlMappingNode>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot(), "deploy", "kubernetes"), "*.yaml").Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal)))
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            documents.AddRange(stream.Documents.Select(d => (YamlMappingNode)d.RootNode));
        }

        return documents;
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PgVideoChat.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("PgVideoChat.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("^[a-z0-9_]{1,63}$")]
    private static partial Regex SlotName();
}
