// The binding's mirror of the C API stays in step with the loaded library.

using System;
using System.Text.RegularExpressions;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class NativeSurfaceTests
    {
        [Test]
        public void EveryStatusHasTheNativeName()
        {
            foreach (X8Status status in Enum.GetValues(typeof(X8Status)))
            {
                // InvalidArgument -> X8_STATUS_INVALID_ARGUMENT
                var expected = "X8_STATUS_" + Regex.Replace(status.ToString(), "(?<=[a-z0-9])([A-Z])", "_$1").ToUpperInvariant();
                Assert.AreEqual(expected, Errors.Describe(status), "x8_status value " + (int)status);
            }
            Assert.AreEqual("X8_STATUS_UNKNOWN", Errors.Describe((X8Status)42), "42 is not a status (a new one would be)");
        }

        [Test]
        public void LibraryIsTheVersionTheBindingWasWrittenFor()
        {
            Assert.AreEqual(X8Library.VersionNumber / 10000 + "." + X8Library.VersionNumber / 100 % 100 + "." + X8Library.VersionNumber % 100,
                X8Library.Version);
            Assert.AreEqual(X8Library.BindingVersionNumber / 100, X8Library.VersionNumber / 100,
                "libx8 " + X8Library.Version + " has another MAJOR.MINOR than the x8.h this binding mirrors: review NativeMethods");
            Assert.GreaterOrEqual(X8Library.VersionNumber, X8Library.BindingVersionNumber);
        }

        [Test]
        public void StatsStructHasTheNativeSize()
        {
            // size_t + 15 counters of 64 bits, as x8_stats in x8.h (tests/parity/parity.py checks their names and
            // order against the header).
            Assert.AreEqual(IntPtr.Size + 15 * 8, System.Runtime.InteropServices.Marshal.SizeOf(typeof(NativeMethods.Stats)));
        }
    }
}
