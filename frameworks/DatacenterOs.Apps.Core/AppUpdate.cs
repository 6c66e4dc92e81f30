using System.Text.Json;
using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Core;

/// <summary>How an update body is applied to an existing app.</summary>
public enum AppUpdateMode
{
    /// <summary>
    /// Marathon's <c>PUT /v2/apps/{id}?partialUpdate=true</c> (its default, and also what Marathon's own <c>PATCH</c>
    /// does; <c>AppConversion.appUpdateRamlReader</c>): every top-level field present in the body replaces the existing
    /// field as a whole (nested objects such as <c>container</c> or <c>env</c> are not merged); absent fields and fields
    /// set to <c>null</c> keep their existing value, so nothing can be removed.
    /// </summary>
    PartialUpdate,

    /// <summary>
    /// <c>PUT /v2/apps/{id}?partialUpdate=false</c>: the body is the complete new definition; absent fields take their
    /// defaults.
    /// </summary>
    Replace,

    /// <summary>
    /// DatacenterOs' <c>PATCH /v2/apps/{id}</c>: a JSON merge patch (RFC 7386) of the existing definition: objects are
    /// merged recursively, arrays and scalars replaced, and <c>null</c> removes a field (which then takes its default).
    /// </summary>
    MergePatch,
}

/// <summary>
/// Applies <c>PUT</c>/<c>PATCH</c> bodies to an existing app (see <see cref="AppUpdateMode"/>). In every mode the id
/// of the existing app wins over one in the body (the request path names the app) and the existing
/// <see cref="AppDefinition.Version"/> is kept (the service stamps a new version when it stores the result; a
/// Marathon-style rollback body <c>{"version": …}</c> must be recognized by the caller). Deprecated <c>ports</c> and
/// <c>uris</c> in a partial body are translated first, as Marathon's <c>AppNormalization.forDeprecatedUpdates</c>
/// does. The result is normalized but not validated.
/// </summary>
public static class AppUpdate
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
    };

    /// <summary>Applies <paramref name="body"/> to <paramref name="existing"/>; malformed bodies give the 400 error.</summary>
    public static AppParseResult ApplyUpdate(
        AppDefinition existing,
        ReadOnlySpan<byte> body,
        AppUpdateMode mode,
        NormalizationContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(existing);
        if (body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return AppParseResult.Failure(new AppJsonError(AppDefinitionJson.EmptyBodyMessage, "No content to map due to end-of-input"));
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            return AppParseResult.Failure(new AppJsonError(AppDefinitionJson.InvalidJsonMessage, e.Message));
        }

        if (node is not JsonObject patch)
        {
            return AppParseResult.Failure(new AppJsonError(
                AppDefinitionJson.InvalidJsonMessage, $"expected a JSON object, got {node?.GetValueKind().ToString() ?? "null"}"));
        }

        return ApplyUpdate(existing, patch, mode, context);
    }

    /// <summary>Applies a JSON string body (see the byte overload).</summary>
    public static AppParseResult ApplyUpdate(AppDefinition existing, string body, AppUpdateMode mode, NormalizationContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ApplyUpdate(existing, System.Text.Encoding.UTF8.GetBytes(body), mode, context);
    }

    /// <summary>Applies an already parsed body (the object is not modified).</summary>
    public static AppParseResult ApplyUpdate(AppDefinition existing, JsonObject patch, AppUpdateMode mode, NormalizationContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(patch);

        JsonObject merged;
        switch (mode)
        {
            case AppUpdateMode.Replace:
                merged = (JsonObject)patch.DeepClone();
                break;

            case AppUpdateMode.PartialUpdate:
                merged = AppDefinitionJson.ToJsonObject(existing);
                foreach (var (name, value) in TranslateDeprecated(patch))
                {
                    if (value is not null)
                    {
                        merged[name] = value.DeepClone();
                    }
                }

                break;

            case AppUpdateMode.MergePatch:
                merged = (JsonObject)MergePatch(AppDefinitionJson.ToJsonObject(existing), TranslateDeprecated(patch))!;
                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }

        merged["id"] = existing.Id;
        merged.Remove("version");
        var parsed = AppDefinitionJson.FromNode(merged);
        return parsed.App is { } app
            ? AppParseResult.Success(AppNormalizer.Normalize(app with { Version = existing.Version }, context))
            : parsed;
    }

    /// <summary>
    /// JSON merge patch (RFC 7386 section 2): when <paramref name="patch"/> is an object, its members are merged into
    /// <paramref name="target"/> (treated as an empty object when it is not one), recursively, and members whose patch
    /// value is <c>null</c> are removed; any other patch value replaces the target. Inputs are not modified.
    /// </summary>
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : [];
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                result[name] = MergePatch(result[name], value);
            }
        }

        return result;
    }

    // Marathon AppNormalization.forDeprecatedUpdates: `ports` become `portDefinitions`, `uris` become `fetch`, unless
    // the canonical field is present too.
    private static JsonObject TranslateDeprecated(JsonObject patch)
    {
        var result = (JsonObject)patch.DeepClone();
        if (result["ports"] is JsonArray ports && !result.ContainsKey("portDefinitions"))
        {
            var definitions = new JsonArray();
            foreach (var port in ports)
            {
                definitions.Add(new JsonObject { ["port"] = port?.DeepClone() });
            }

            result["portDefinitions"] = definitions;
            result.Remove("ports");
        }

        if (result["uris"] is JsonArray uris && !result.ContainsKey("fetch"))
        {
            var fetch = new JsonArray();
            foreach (var uri in uris)
            {
                var text = uri?.GetValueKind() == JsonValueKind.String ? uri.GetValue<string>() : null;
                fetch.Add(new JsonObject { ["uri"] = uri?.DeepClone(), ["extract"] = text is not null && FetchUri.IsExtract(text) });
            }

            result["fetch"] = fetch;
            result.Remove("uris");
        }

        return result;
    }
}
