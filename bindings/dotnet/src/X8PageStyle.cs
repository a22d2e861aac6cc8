// How a listing names its next page: the C header's x8_page_style (tests/parity/parity.py checks the values).

namespace X8
{
    /// <summary>How a paged listing says where its next page is (8x8's APIs use five ways).</summary>
    public enum X8PageStyle : uint
    {
        /// <summary>Detect the style from the first reply.</summary>
        Auto = 0,
        /// <summary>X-Page, X-Total-Pages and Link rel="next" headers: realtime, historical summary reports.</summary>
        PageHeaders = 1,
        /// <summary>A Last-Document-Id header sent back as lastDocumentId: historical detailed reports.</summary>
        HeaderCursor = 2,
        /// <summary>pageKey in the body, until lastPage is true: Storage search.</summary>
        BodyOffset = 3,
        /// <summary>links[rel=nextUrl] in the body: QM.</summary>
        BodyLinks = 4,
        /// <summary>A page object (pageIndex, pageCount) in the body: vcc.</summary>
        PageObject = 5,
        /// <summary>Not paged: the first reply is all there is.</summary>
        Single = 6,
    }
}
