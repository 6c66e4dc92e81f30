using System.Globalization;
using System.Text.Json.Nodes;

namespace DatacenterOs.Web.Presentation;

/// <summary>Turns the New job form into a job definition for <c>/v1/scheduler/iso8601</c> or <c>/dependency</c>.</summary>
public static class NewJobForm
{
    /// <summary>
    /// The definition: scheduled when <paramref name="schedule"/> is given, dependent when <paramref name="parents"/>
    /// (comma-separated) is. Numbers that do not parse are sent as typed so the API names the field.
    /// </summary>
    public static string ToJson(string name, string command, string owner, string cpus, string mem, string? schedule, string? parents)
    {
        var job = new JsonObject
        {
            ["name"] = name,
            ["command"] = command,
            ["owner"] = owner,
            ["cpus"] = Number(cpus),
            ["mem"] = Number(mem),
        };
        if (parents is not null)
        {
            job["parents"] = new JsonArray([.. parents.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => (JsonNode)JsonValue.Create(p))]);
        }
        else
        {
            job["schedule"] = schedule ?? "";
        }

        return job.ToJsonString();
    }

    private static JsonValue? Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d) : JsonValue.Create(text);
}
