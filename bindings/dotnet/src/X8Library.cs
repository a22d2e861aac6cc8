// Which libx8 the process loaded, to catch a binding running against a library it was not written for.

namespace X8
{
    /// <summary>Version information about the native library and this binding.</summary>
    public static class X8Library
    {
        /// <summary>X8_VERSION_NUM of the x8.h this binding was written against (MAJOR*10000 + MINOR*100 + PATCH).</summary>
        public const int BindingVersionNumber = 100;

        /// <summary>The loaded library's version, "MAJOR.MINOR.PATCH".</summary>
        public static string Version
        {
            get { return Utf8.Decode(NativeMethods.x8_version()); }
        }

        /// <summary>The loaded library's version as MAJOR*10000 + MINOR*100 + PATCH.</summary>
        public static int VersionNumber
        {
            get { return (int)NativeMethods.x8_version_num(); }
        }
    }
}
