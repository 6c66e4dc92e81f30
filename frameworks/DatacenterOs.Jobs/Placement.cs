using System.Text.RegularExpressions;
using DatacenterOs.Jobs.Core;

namespace DatacenterOs.Jobs;

/// <summary>
/// Chronos's placement constraints (<c>[attribute, "EQUALS"|"LIKE"|"UNLIKE", value]</c>) against an offer: the attribute
/// <c>hostname</c> is the agent's host name, others are the agent's attributes (text or scalar). LIKE and UNLIKE match
/// the whole value against a regular expression; a missing attribute fails EQUALS and LIKE and passes UNLIKE.
/// </summary>
internal static class Placement
{
    public static bool Accepts(JobDefinition job, string hostname, IReadOnlyDictionary<string, string> attributes)
    {
        foreach (var constraint in job.Constraints)
        {
            if (constraint.Count != 3)
            {
                continue;
            }

            var (attribute, op, value) = (constraint[0], constraint[1], constraint[2]);
            var actual = attribute == "hostname" ? hostname : attributes.GetValueOrDefault(attribute);
            var ok = op switch
            {
                "EQUALS" => actual == value,
                "LIKE" => actual is not null && FullMatch(actual, value),
                "UNLIKE" => actual is null || !FullMatch(actual, value),
                _ => true,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool FullMatch(string input, string pattern)
    {
        try
        {
            return Regex.IsMatch(input, "^(?:" + pattern + ")$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
