using DatacenterOs.Testing;

namespace DatacenterOs.EndToEnd.Tests;

/// <summary>A test that needs PostgreSQL: skipped with the reason when it is unreachable, except under <c>CI=true</c> where it runs (and fails).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when PostgreSQL is unreachable off CI.</summary>
    public PostgresFactAttribute()
    {
        if (!PostgresTestDatabase.UnderCi && PostgresTestDatabase.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs PostgreSQL for some rows; skipped as a whole off CI when it is unreachable.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when PostgreSQL is unreachable off CI.</summary>
    public PostgresTheoryAttribute()
    {
        if (!PostgresTestDatabase.UnderCi && PostgresTestDatabase.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
