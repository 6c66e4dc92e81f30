using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace DatacenterOs.Security;

/// <summary>One principal as written in the auth file.</summary>
public sealed class PrincipalEntry
{
    /// <summary>Name (the HTTP Basic user name).</summary>
    public string Name { get; set; } = "";

    /// <summary>Secret hash for HTTP Basic and the login page (<c>pbkdf2-sha256$…</c>, from <c>dcosd hash-secret</c>).</summary>
    public string? SecretHash { get; set; }

    /// <summary>Bearer token hashes (<c>sha256$…</c>, from <c>dcosd hash-secret --token</c>).</summary>
    public List<string>? TokenHashes { get; set; }

    /// <summary>Permission strings (see <see cref="Grants"/>).</summary>
    public List<string>? Permissions { get; set; }

    /// <summary>Roles a framework authenticated as this principal may subscribe with.</summary>
    public List<string>? Roles { get; set; }
}

/// <summary>The auth file: <c>{"principals": [...]}</c> in JSON (<c>.json</c>) or YAML (anything else).</summary>
public sealed class AuthFileModel
{
    /// <summary>The principals.</summary>
    public List<PrincipalEntry>? Principals { get; set; }
}

/// <summary>
/// Principals loaded from the auth file, verifying credentials. Example (YAML):
/// <code>
/// principals:
///   - name: admin
///     secretHash: pbkdf2-sha256$600000$...$...
///     permissions: [operator]
///   - name: team-a
///     tokenHashes: [sha256$...]
///     permissions: [viewer, "apps:/team-a/*", "jobs:owner:team-a@example.com"]
///   - name: spark
///     secretHash: pbkdf2-sha256$...
///     permissions: [scheduler]
///     roles: [spark]
/// </code>
/// Verified Basic credentials are remembered (by a SHA-256 of name and secret, at most 1,024) so that PBKDF2 runs
/// once per credential, not once per request.
/// </summary>
public sealed class AuthStore
{
    /// <summary>Name of the built-in principal agents become when they present the shared agent secret.</summary>
    public const string AgentPrincipal = "agent";

    /// <summary>Name of the built-in principal the dashboard uses for its background reads.</summary>
    public const string InternalPrincipal = "dcosd-internal";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { MaxDepth = 16 };

    private readonly Dictionary<string, (PrincipalEntry Entry, Grants Grants)> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _verified = new(StringComparer.Ordinal);
    private readonly byte[]? _agentSecret;
    private readonly byte[]? _internalToken;

    /// <summary>Builds the store.</summary>
    /// <param name="principals">Principals from the file.</param>
    /// <param name="agentSecret">Shared agent secret (a bearer token that authenticates as <see cref="AgentPrincipal"/>), or null.</param>
    /// <param name="internalToken">Token of <see cref="InternalPrincipal"/> (viewer), or null.</param>
    /// <exception cref="FormatException">A principal without a name, a duplicate, a bad hash or permission (the message names it).</exception>
    public AuthStore(IEnumerable<PrincipalEntry> principals, string? agentSecret = null, string? internalToken = null)
    {
        ArgumentNullException.ThrowIfNull(principals);
        var i = 0;
        foreach (var p in principals)
        {
            var where = $"principals[{i++}]";
            if (string.IsNullOrWhiteSpace(p.Name))
            {
                throw new FormatException($"{where}: 'name' is required");
            }

            if (p.Name is AgentPrincipal or InternalPrincipal || p.Name.Contains(':', StringComparison.Ordinal))
            {
                throw new FormatException($"{where}: the name '{p.Name}' is reserved or contains ':'");
            }

            if (_byName.ContainsKey(p.Name))
            {
                throw new FormatException($"{where}: principal '{p.Name}' appears twice");
            }

            if (p.SecretHash is { } hash && !hash.StartsWith("pbkdf2-sha256$", StringComparison.Ordinal))
            {
                throw new FormatException($"{where}.secretHash: expected pbkdf2-sha256$ITERATIONS$SALT$HASH (dcosd hash-secret makes one)");
            }

            foreach (var token in p.TokenHashes ?? [])
            {
                if (!SecretHasher.IsTokenHash(token))
                {
                    throw new FormatException($"{where}.tokenHashes: expected sha256$HEX (dcosd hash-secret --token makes one)");
                }

                _byToken[token] = p.Name;
            }

            Grants grants;
            try
            {
                grants = new Grants(p.Name, p.Permissions ?? [], p.Roles);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{where}.permissions: {e.Message}", e);
            }

            _byName[p.Name] = (p, grants);
        }

        _agentSecret = agentSecret is { Length: > 0 } ? Encoding.UTF8.GetBytes(agentSecret) : null;
        _internalToken = internalToken is { Length: > 0 } ? Encoding.UTF8.GetBytes(internalToken) : null;
    }

    /// <summary>Number of principals in the file.</summary>
    public int Count => _byName.Count;

    /// <summary>Reads an auth file (<c>.json</c>: JSON; otherwise YAML, which also reads JSON).</summary>
    /// <exception cref="FormatException">The file does not parse or holds an invalid principal (the message names the file and the field).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static AuthStore Load(string path, string? agentSecret = null, string? internalToken = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = File.ReadAllText(path);
        AuthFileModel? model;
        try
        {
            model = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? JsonSerializer.Deserialize<AuthFileModel>(text, JsonOptions)
                : new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build().Deserialize<AuthFileModel>(text);
        }
        catch (Exception e) when (e is JsonException or YamlException)
        {
            throw new FormatException($"auth file {path}: {e.Message}", e);
        }

        try
        {
            return new AuthStore(model?.Principals ?? [], agentSecret, internalToken);
        }
        catch (FormatException e)
        {
            throw new FormatException($"auth file {path}: {e.Message}", e);
        }
    }

    /// <summary>The grants of <paramref name="name"/> (built-ins included), or null for an unknown name.</summary>
    public Grants? GrantsOf(string? name) => name switch
    {
        null => null,
        AgentPrincipal when _agentSecret is not null => new Grants(AgentPrincipal, ["agent"]),
        InternalPrincipal when _internalToken is not null => new Grants(InternalPrincipal, ["viewer"]),
        _ => _byName.TryGetValue(name, out var p) ? p.Grants : null,
    };

    /// <summary>Verifies HTTP Basic (or login form) credentials; the principal's name, or null.</summary>
    public string? VerifySecret(string name, string secret)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(secret);
        if (!_byName.TryGetValue(name, out var p) || p.Entry.SecretHash is not { } stored)
        {
            return null;
        }

        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name + "\0" + secret + "\0" + stored)));
        if (_verified.ContainsKey(key))
        {
            return name;
        }

        if (!SecretHasher.VerifySecret(secret, stored))
        {
            return null;
        }

        if (_verified.Count >= 1024)
        {
            _verified.Clear();
        }

        _verified[key] = name;
        return name;
    }

    /// <summary>Verifies a bearer token (a principal's token, the agent secret or the internal token); the principal's name, or null.</summary>
    public string? VerifyToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var bytes = Encoding.UTF8.GetBytes(token);
        if (_agentSecret is not null && CryptographicOperations.FixedTimeEquals(bytes, _agentSecret))
        {
            return AgentPrincipal;
        }

        if (_internalToken is not null && CryptographicOperations.FixedTimeEquals(bytes, _internalToken))
        {
            return InternalPrincipal;
        }

        return _byToken.GetValueOrDefault(SecretHasher.HashToken(token));
    }
}
