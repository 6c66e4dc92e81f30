using System.Text.Json.Nodes;
using DatacenterOs.Apps.Core;
using Microsoft.AspNetCore.Http;

namespace DatacenterOs.Apps;

public sealed partial class AppsService
{
    /// <summary>
    /// <c>/v2/groups[/{id}]</c> (Marathon <c>GroupsResource</c>). Groups are the folders of app ids: a group exists while
    /// an app lives under it. GET returns the group tree (<c>{"id","apps","groups","dependencies","version"}</c>);
    /// POST creates a group with its apps (409 when it exists); PUT replaces the apps of a group (apps under it that the
    /// body leaves out are removed) or, with <c>{"scaleBy": f}</c>, scales all of them; DELETE removes every app under
    /// it. App ids in the body are relative to the group; a group's <c>dependencies</c> become dependencies of each app
    /// in it, so the whole group waits for them. Every change is one deployment, ordered by dependencies.
    /// </summary>
    private async Task GroupsAsync(HttpContext ctx)
    {
        var rest = (ctx.Request.RouteValues["rest"] as string ?? "").Trim('/');
        if (rest.Length > 0 && !PathId.IsValid("/" + rest))
        {
            await WriteAsync(ctx, 404, GroupNotFound("/" + rest)).ConfigureAwait(false);
            return;
        }

        var id = rest.Length == 0 ? PathId.Root : PathId.Parse("/" + rest).Canonicalize();
        var flags = ChangeFlags.From(ctx);
        switch (ctx.Request.Method)
        {
            case "GET":
                var json = await WithGateAsync(() => GroupJson(id), flush: false).ConfigureAwait(false);
                await (json is null ? WriteAsync(ctx, 404, GroupNotFound(id.ToString())) : WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options))).ConfigureAwait(false);
                return;
            case "DELETE":
                var deleted = await WithGateAsync(() =>
                {
                    var doomed = _apps.Keys.Where(a => a.IsWithin(id)).ToList();
                    return doomed.Count == 0 && !id.IsRoot
                        ? new ChangeResult(404, GroupNotFound(id.ToString()))
                        : Change(doomed.ToDictionary(a => a, _ => (AppDefinition?)null), flags);
                }).ConfigureAwait(false);
                await WriteAsync(ctx, deleted).ConfigureAwait(false);
                return;
        }

        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        JsonObject? node;
        try
        {
            node = body.Length == 0 ? null : JsonNode.Parse(body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            node = null;
        }

        if (node is null)
        {
            await WriteAsync(ctx, AppJsonError.StatusCode, new AppJsonError(AppDefinitionJson.InvalidJsonMessage, "expected a group object").ToMarathonJson()).ConfigureAwait(false);
            return;
        }

        if (ctx.Request.Method == "POST")
        {
            // POST /v2/groups takes the id from the body (relative to the path).
            var groupId = node["id"] is JsonValue raw && raw.TryGetValue<string>(out var text) ? PathId.Parse(text).Canonicalize(id) : id;
            var result = await GroupChangeAsync(node, groupId, replace: false, flags, create: true).ConfigureAwait(false);
            await WriteAsync(ctx, result with { Status = result.Deployment is null ? result.Status : 201 }).ConfigureAwait(false);
            return;
        }

        await WriteAsync(ctx, await GroupChangeAsync(node, id, replace: true, flags).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Collects the apps of a group body, validates them and deploys the change (or plans it, for a dry run).</summary>
    private async Task<ChangeResult> GroupChangeAsync(JsonObject node, PathId groupId, bool replace, ChangeFlags flags, bool create = false)
    {
        if (node["scaleBy"] is JsonValue scaleBy && scaleBy.TryGetValue<double>(out var factor))
        {
            if (factor < 0 || double.IsNaN(factor) || double.IsInfinity(factor))
            {
                return new ChangeResult(ValidationResult.StatusCode, ObjectNotValid("/scaleBy", "must be a non-negative number"));
            }

            return await WithGateAsync(() => Change(
                _apps.Values.Where(s => s.Id.IsWithin(groupId)).ToDictionary(s => s.Id, s => (AppDefinition?)(s.App with { Instances = (int)Math.Ceiling(s.App.Instances * factor), Version = null })),
                flags)).ConfigureAwait(false);
        }

        var apps = new Dictionary<PathId, AppDefinition>();
        if (CollectGroup(node, groupId, "", [], apps) is { } error)
        {
            return error;
        }

        return await WithGateAsync(() =>
        {
            if (create && _apps.Keys.Any(a => a.IsWithin(groupId)) && !groupId.IsRoot)
            {
                return new ChangeResult(409, new JsonObject { ["message"] = $"Group {groupId} is already created. Use PUT to change this group." }.ToJsonString(AppsJson.Options));
            }

            if (apps.Keys.FirstOrDefault(a => _apps.ContainsKey(a) && create) is { } existing)
            {
                return new ChangeResult(409, new JsonObject { ["message"] = $"An app with id [{existing}] already exists." }.ToJsonString(AppsJson.Options));
            }

            var changes = apps.ToDictionary(kv => kv.Key, kv => (AppDefinition?)kv.Value);
            if (replace && node.ContainsKey("apps"))
            {
                foreach (var id in _apps.Keys.Where(a => a.IsWithin(groupId) && !apps.ContainsKey(a)))
                {
                    changes[id] = null;
                }
            }

            return Change(changes, flags);
        }, flush: !flags.DryRun).ConfigureAwait(false);
    }

    /// <summary>Adds the apps of <paramref name="node"/> (and its subgroups) to <paramref name="apps"/>; an error result when one is invalid.</summary>
    private static ChangeResult? CollectGroup(JsonObject node, PathId groupId, string path, IReadOnlyList<string> inheritedDependencies, Dictionary<PathId, AppDefinition> apps)
    {
        var dependencies = inheritedDependencies.ToList();
        if (node["dependencies"] is JsonArray deps)
        {
            foreach (var dep in deps)
            {
                if (dep is not JsonValue value || !value.TryGetValue<string>(out var text) || !PathId.IsValid(text.TrimStart('/')) && text is not "/")
                {
                    return new ChangeResult(ValidationResult.StatusCode, ObjectNotValid(path + "/dependencies", "must be a list of group or app ids"));
                }

                dependencies.Add(PathId.Parse(text).Canonicalize(groupId.Parent).ToString());
            }
        }

        if (node["apps"] is JsonArray appNodes)
        {
            for (var i = 0; i < appNodes.Count; i++)
            {
                var appPath = $"{path}/apps({i})";
                var parsed = appNodes[i] is JsonObject appNode ? AppDefinitionJson.Parse(appNode.ToJsonString()) : AppParseResult.Failure(new AppJsonError(AppDefinitionJson.InvalidJsonMessage, appPath + ": expected an app object"));
                if (parsed.App is { } raw)
                {
                    var normalized = AppNormalizer.Normalize(raw, new NormalizationContext { BaseGroup = groupId });
                    if (dependencies.Count > 0)
                    {
                        normalized = normalized with { Dependencies = [.. normalized.Dependencies.Concat(dependencies).Distinct(StringComparer.Ordinal)] };
                    }

                    parsed = AppParseResult.Success(normalized);
                }

                var (app, error) = ValidApp(parsed, appPath);
                if (error is not null)
                {
                    return error;
                }

                var id = app!.PathId.Canonicalize();
                if (!id.IsWithin(groupId) || !apps.TryAdd(id, app))
                {
                    return new ChangeResult(ValidationResult.StatusCode, ObjectNotValid(appPath + "/id", $"app id {id} must be unique and inside group {groupId}"));
                }
            }
        }

        if (node["groups"] is JsonArray groupNodes)
        {
            for (var i = 0; i < groupNodes.Count; i++)
            {
                var groupPath = $"{path}/groups({i})";
                if (groupNodes[i] is not JsonObject child || child["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var childText))
                {
                    return new ChangeResult(ValidationResult.StatusCode, ObjectNotValid(groupPath + "/id", "is required"));
                }

                var childId = PathId.Parse(childText).Canonicalize(groupId);
                if (!childId.IsWithin(groupId) || childId == groupId)
                {
                    return new ChangeResult(ValidationResult.StatusCode, ObjectNotValid(groupPath + "/id", $"group {childId} must be inside group {groupId}"));
                }

                if (CollectGroup(child, childId, groupPath, dependencies, apps) is { } error)
                {
                    return error;
                }
            }
        }

        return null;
    }

    /// <summary>The group tree under <paramref name="id"/>, or null when no app lives there.</summary>
    private JsonObject? GroupJson(PathId id)
    {
        var apps = _apps.Values.Where(s => s.Id.IsWithin(id)).ToList();
        if (apps.Count == 0 && !id.IsRoot)
        {
            return null;
        }

        var version = apps.Select(s => s.App.Version).Max();
        var children = apps.Where(s => s.Id.Parent != id).Select(s => PathId.FromSegments(s.Id.Segments.Take(id.Segments.Count + 1))).Distinct().Order();
        return new JsonObject
        {
            ["id"] = id.ToString(),
            ["apps"] = new JsonArray([.. apps.Where(s => s.Id.Parent == id).Select(s => (JsonNode)AppJson(s, embedTasks: false))]),
            ["groups"] = new JsonArray([.. children.Select(c => (JsonNode)GroupJson(c)!)]),
            ["pods"] = new JsonArray(),
            ["dependencies"] = new JsonArray(),
            ["version"] = version is { } v ? AppsJsonWriter.Timestamp(v) : null,
        };
    }

    private static string GroupNotFound(string id) => new JsonObject { ["message"] = $"Group '{id}' does not exist" }.ToJsonString(AppsJson.Options);

    private static string ObjectNotValid(string path, string error) => new JsonObject
    {
        ["message"] = "Object is not valid",
        ["details"] = new JsonArray(new JsonObject { ["path"] = path, ["errors"] = new JsonArray(error) }),
    }.ToJsonString(AppsJson.Options);
}
