using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DatacenterOs.Web.Presentation;

/// <summary>Turns the New app form into a Marathon app definition.</summary>
public static class NewAppForm
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The JSON editor's starting text.</summary>
    public static string Template { get; } = ToJson("/hello", "echo hello; sleep 3600", "0.1", "32", "1", healthCheck: true);

    /// <summary>
    /// The definition for the form's fields. Numbers that do not parse are sent as they were typed (as strings), so the
    /// Apps API names the field in its 422 answer rather than the form guessing a value.
    /// </summary>
    public static string ToJson(string id, string cmd, string cpus, string mem, string instances, bool healthCheck)
    {
        var app = new JsonObject
        {
            ["id"] = id,
            ["cmd"] = cmd,
            ["cpus"] = Number(cpus),
            ["mem"] = Number(mem),
            ["instances"] = int.TryParse(instances, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : Number(instances),
        };
        if (string.IsNullOrEmpty(cmd))
        {
            app.Remove("cmd");
        }

        if (healthCheck)
        {
            app["healthChecks"] = new JsonArray(new JsonObject
            {
                ["protocol"] = "COMMAND",
                ["command"] = new JsonObject { ["value"] = "true" },
                ["gracePeriodSeconds"] = 30,
                ["intervalSeconds"] = 2,
                ["timeoutSeconds"] = 1,
                ["delaySeconds"] = 0,
            });
        }

        return app.ToJsonString(Indented);
    }

    private static JsonValue? Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d) : JsonValue.Create(text);
}
