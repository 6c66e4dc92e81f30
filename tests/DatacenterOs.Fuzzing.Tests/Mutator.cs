using System.Text;
using System.Text.Json.Nodes;

namespace DatacenterOs.Fuzzing.Tests;

/// <summary>
/// Structured mutation of a valid JSON document: removes, replaces, retypes and adds fields at any depth with
/// boundary and hostile values (huge and negative numbers, long and odd strings, path traversal, wrong types, deep
/// nesting), and sometimes breaks the text itself (truncation, stray bytes). Deterministic for a given <see cref="Random"/>.
/// </summary>
internal static class Mutator
{
    private static readonly string[] Strings =
    [
        "", " ", "a", "/", "//", "..", "../..", "/../x", "x/..", "./x", "UPPER", "white space", "tab\there", "new\nline",
        "ünïcödé", "😀", "\u0000", "%2e%2e%2f", "<script>", "'; DROP TABLE apps; --", "$(reboot)", "`id`", "-1", "0", "1e309",
        "NaN", "true", "null", "*/5 * * * *", "R/2035-01-01T00:00:00Z/PT1S", "R0/2035-01-01T00:00:00Z/PT1H", "R/-1/PT0S", "P1D",
        "PT0S", "2035-13-45T99:99:99Z", "R//", "hostname", "UNIQUE", "CLUSTER", "LIKE", "(", "[a-", "a{1000000}", "TCP", "HTTP",
        "COMMAND", "MESOS_HTTP", "root", "nobody", "web", "*",
    ];

    private static readonly double[] Numbers =
    [
        0, -0.0, 1, -1, 0.5, -0.5, 1e-9, 2, 3, 7, 64, 65535, 65536, int.MaxValue, (double)int.MaxValue + 1, int.MinValue,
        long.MaxValue, 1e15, 1e300, -1e300, 123456789.123,
    ];

    /// <summary>Mutates <paramref name="seed"/> (left unchanged) and returns the request body text.</summary>
    /// <param name="seed">A valid document.</param>
    /// <param name="random">Source of every choice.</param>
    /// <param name="protectedTopLevel">Top-level keys left alone (e.g. a group's id, so the root group is never replaced).</param>
    public static string Mutate(JsonNode seed, Random random, params string[] protectedTopLevel)
    {
        var roll = random.Next(100);
        var node = seed.DeepClone();
        if (roll < 4)
        {
            return "{" + new string('[', 10 + random.Next(200)) + new string(']', random.Next(3));
        }

        var mutations = roll < 10 ? 0 : 1 + random.Next(3);
        for (var i = 0; i < mutations; i++)
        {
            MutateOnce(node, random, protectedTopLevel);
        }

        var text = node.ToJsonString();
        if (roll is >= 4 and < 10)
        {
            // Break the text: truncate, or drop/insert a byte.
            return random.Next(3) switch
            {
                0 => text[..random.Next(text.Length)],
                1 => text.Remove(random.Next(text.Length), 1),
                _ => text.Insert(random.Next(text.Length), ((char)random.Next(32, 127)).ToString()),
            };
        }

        return text;
    }

    private static void MutateOnce(JsonNode root, Random random, string[] protectedTopLevel)
    {
        var containers = new List<JsonNode>();
        Collect(root, containers);
        var target = containers[random.Next(containers.Count)];
        switch (target)
        {
            case JsonObject obj:
                var keys = obj.Select(kv => kv.Key).Where(k => target != root || !protectedTopLevel.Contains(k)).ToList();
                var op = random.Next(10);
                if (keys.Count == 0 || op >= 8)
                {
                    var key = random.Next(3) == 0 ? RandomString(random) : Pick(random, ["id", "cmd", "instances", "cpus", "mem", "labels", "env", "name", "schedule", "type", "roles", "user", "owner", "parents", "constraints", "healthChecks", "dependencies", "apps", "groups", "args", "container", "portDefinitions", "shell", "retries", "disk", "gpus", "fetch"]);
                    if (target == root && protectedTopLevel.Contains(key))
                    {
                        return;
                    }

                    obj[key] = RandomValue(random, 0);
                }
                else if (op < 3)
                {
                    obj.Remove(keys[random.Next(keys.Count)]);
                }
                else
                {
                    var key = keys[random.Next(keys.Count)];
                    obj[key] = Replace(obj[key], random);
                }

                break;
            case JsonArray array:
                if (array.Count == 0 || random.Next(4) == 0)
                {
                    array.Add(RandomValue(random, 0));
                }
                else if (random.Next(3) == 0)
                {
                    array.RemoveAt(random.Next(array.Count));
                }
                else if (random.Next(3) == 0)
                {
                    var i = random.Next(array.Count);
                    for (var n = random.Next(1, 50); n > 0; n--)
                    {
                        array.Add(array[i]?.DeepClone());
                    }
                }
                else
                {
                    var i = random.Next(array.Count);
                    array[i] = Replace(array[i], random);
                }

                break;
        }
    }

    /// <summary>A replacement for <paramref name="old"/>: a nearby value of the same type, or anything.</summary>
    private static JsonNode? Replace(JsonNode? old, Random random)
    {
        if (random.Next(3) == 0)
        {
            return RandomValue(random, 0);
        }

        return old switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(MutateString(s, random)),
            JsonValue v when v.TryGetValue<double>(out var d) => JsonValue.Create(random.Next(3) switch
            {
                0 => Numbers[random.Next(Numbers.Length)],
                1 => -d,
                _ => d * random.Next(-3, 1000),
            }),
            JsonValue v when v.TryGetValue<bool>(out var b) => random.Next(2) == 0 ? JsonValue.Create(!b) : JsonValue.Create(b ? "true" : "false"),
            _ => RandomValue(random, 0),
        };
    }

    private static string MutateString(string s, Random random) => random.Next(8) switch
    {
        0 => Strings[random.Next(Strings.Length)],
        1 => s + Strings[random.Next(Strings.Length)],
        2 => s.ToUpperInvariant(),
        3 => s + new string('x', random.Next(1, 4) * 100),
        4 => new string('a', 500 + random.Next(20_000)),
        5 => s.Length > 0 ? s.Remove(random.Next(s.Length), 1) : "x",
        6 => "/" + s + "/",
        _ => RandomString(random),
    };

    private static JsonNode? RandomValue(Random random, int depth) => random.Next(depth > 3 ? 6 : 9) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(Numbers[random.Next(Numbers.Length)]),
        3 => JsonValue.Create(random.Next(-5, 100)),
        4 => JsonValue.Create(Strings[random.Next(Strings.Length)]),
        5 => JsonValue.Create(RandomString(random)),
        6 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth + 1))]),
        7 => new JsonObject(Enumerable.Range(0, random.Next(4)).Select(i => KeyValuePair.Create(Pick(random, ["id", "value", "name", "key", RandomString(random)]) + i, RandomValue(random, depth + 1)))),
        _ => Deep(random.Next(10, 80)),
    };

    private static JsonNode Deep(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 0; i < depth; i++)
        {
            node = new JsonObject { ["a"] = node };
        }

        return node;
    }

    private static string RandomString(Random random)
    {
        var sb = new StringBuilder();
        var length = random.Next(1, 40);
        for (var i = 0; i < length; i++)
        {
            sb.Append(random.Next(10) == 0 ? (char)random.Next(0x80, 0x2FFF) : (char)random.Next(32, 127));
        }

        return sb.ToString();
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        switch (node)
        {
            case JsonObject o:
                into.Add(o);
                foreach (var (_, v) in o)
                {
                    Collect(v, into);
                }

                break;
            case JsonArray a:
                into.Add(a);
                foreach (var v in a)
                {
                    Collect(v, into);
                }

                break;
        }
    }
}
