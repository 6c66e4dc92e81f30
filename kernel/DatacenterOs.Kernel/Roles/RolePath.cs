namespace DatacenterOs.Kernel;

/// <summary>
/// Role names and hierarchy. A role is a path of components separated by <c>/</c>
/// (e.g. <c>eng/web</c>); <c>*</c> is the default role and stands for "unreserved" in resources.
/// Naming rules follow Mesos <c>docs/roles.md</c> (<c>src/common/roles.cpp</c>): non-empty, no
/// whitespace or control characters, no component equal to <c>.</c> or <c>..</c>, no component
/// starting with <c>-</c>, no leading, trailing or doubled <c>/</c>, and <c>*</c> only on its own.
/// </summary>
public static class RolePath
{
    /// <summary>The default role, <c>*</c>.</summary>
    public const string Default = "*";

    /// <summary>Returns null when <paramref name="role"/> is a valid role name, else the reason it is not.</summary>
    public static string? Validate(string? role)
    {
        if (string.IsNullOrEmpty(role))
        {
            return "role must not be empty";
        }

        if (role == Default)
        {
            return null;
        }

        if (role[0] == '/' || role[^1] == '/')
        {
            return $"role '{role}' must not start or end with '/'";
        }

        foreach (var component in role.Split('/'))
        {
            if (component.Length == 0)
            {
                return $"role '{role}' must not contain '//'";
            }

            if (component is "." or "..")
            {
                return $"role '{role}' must not have a component '.' or '..'";
            }

            if (component[0] == '-')
            {
                return $"role '{role}' must not have a component starting with '-'";
            }

            foreach (var c in component)
            {
                if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '*' or '(' or ')' or ';' or ':' or ',' or '\\')
                {
                    return $"role '{role}' contains the invalid character '{c}'";
                }
            }
        }

        return null;
    }

    /// <summary>Throws when <paramref name="role"/> is not a valid role name.</summary>
    /// <exception cref="ArgumentException">The role name breaks a naming rule; the message says which.</exception>
    public static string Require(string? role, string paramName = "role")
    {
        var error = Validate(role);
        if (error is not null)
        {
            throw new ArgumentException(error, paramName);
        }

        return role!;
    }

    /// <summary>
    /// True when <paramref name="role"/> equals <paramref name="ancestor"/> or lies below it
    /// (<c>eng/web</c> is within <c>eng</c>; <c>engineering</c> is not).
    /// </summary>
    public static bool IsWithin(string role, string ancestor) =>
        role.Length == ancestor.Length
            ? string.Equals(role, ancestor, StringComparison.Ordinal)
            : role.Length > ancestor.Length && role[ancestor.Length] == '/' && role.StartsWith(ancestor, StringComparison.Ordinal);

    /// <summary>The parent path of <paramref name="role"/>, or null for a top-level role.</summary>
    public static string? Parent(string role)
    {
        var i = role.LastIndexOf('/');
        return i < 0 ? null : role[..i];
    }

    /// <summary>The top-level component of <paramref name="role"/> (<c>eng</c> for <c>eng/web</c>).</summary>
    public static string TopLevel(string role)
    {
        var i = role.IndexOf('/', StringComparison.Ordinal);
        return i < 0 ? role : role[..i];
    }

    /// <summary><paramref name="role"/> and each of its ancestors, nearest first (<c>a/b/c</c>, <c>a/b</c>, <c>a</c>).</summary>
    public static IEnumerable<string> SelfAndAncestors(string role)
    {
        for (string? r = role; r is not null; r = Parent(r))
        {
            yield return r;
        }
    }
}
