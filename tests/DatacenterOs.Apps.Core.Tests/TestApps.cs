using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Core.Tests;

/// <summary>Helpers: the parse → normalize → validate pipeline of a POST /v2/apps.</summary>
internal static class TestApps
{
    public static AppDefinition Parse(string json) => AppDefinitionJson.Parse(json).GetAppOrThrow();

    public static AppDefinition Normalized(string json, NormalizationContext? context = null) =>
        AppNormalizer.Normalize(Parse(json), context);

    public static ValidationResult Validate(string json, ValidationContext? context = null) =>
        AppValidator.Validate(Normalized(json), context);

    public static JsonNode ToNode(AppDefinition app) => JsonNode.Parse(AppDefinitionJson.Serialize(app))!;

    public static void AssertJsonEqual(string expected, string actual)
    {
        var e = JsonNode.Parse(expected);
        var a = JsonNode.Parse(actual);
        Assert.True(JsonNode.DeepEquals(e, a), $"expected {e!.ToJsonString()}\nactual   {a!.ToJsonString()}");
    }
}
