using System.Globalization;
using System.Text.Json.Nodes;

namespace DatacenterOs.Web.Backend;

/// <summary>Tolerant readers over <see cref="JsonNode"/> for the API shapes (missing fields read as defaults).</summary>
internal static class Json
{
    public static string Str(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    public static double Num(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : 0;

    public static int Int(JsonNode? node, string name) => (int)Num(node, name);

    public static bool Bool(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    public static DateTimeOffset? Time(JsonNode? node, string name) =>
        Str(node, name) is { Length: > 0 } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    public static IEnumerable<JsonNode> Items(JsonNode? node) => node is JsonArray a ? a.Where(n => n is not null).Select(n => n!) : [];

    public static IReadOnlyList<string> Strings(JsonNode? node) => [.. Items(node).Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n.ToJsonString())];

    public static ResourceAmounts Amounts(JsonNode? node) => new(Num(node, "cpus"), Num(node, "mem"), Num(node, "disk"), Num(node, "gpus"));
}
