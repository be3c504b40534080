"""Place names and suppliers that make a UK, Australian or US organisation look like one.

New Zealand's lists live in :mod:`.seed` (they came first and its output must not change).
"""

from __future__ import annotations

PLACES: dict[str, tuple[str, ...]] = {
    "GB": ("Pennine", "Thames", "Cotswold", "Mersey", "Kirkstall", "Harrogate", "Severn",
           "Calder", "Wharfedale", "Tyne", "Malvern", "Chiltern", "Solent", "Mendip",
           "Ribble", "Humber", "Exmoor", "Fenland", "Aire", "Derwent"),
    "AU": ("Wattle", "Banksia", "Coral", "Gumtree", "Murray", "Yarra", "Hawkesbury",
           "Bondi", "Kookaburra", "Red Gum", "Ironbark", "Southern Cross", "Barossa",
           "Daintree", "Jacaranda", "Macquarie", "Nullarbor", "Eucalypt"),
    "US": ("Redwood", "Cascade", "Golden Gate", "Bayview", "Sierra", "Mission", "Pacific",
           "Summit", "Lakeshore", "Evergreen", "Marin", "Presidio", "Sequoia", "Tahoe",
           "Sonoma", "Mesa", "Canyon", "Harbor"),
}  # fmt: skip
SUFFIXES: dict[str, tuple[str, ...]] = {
    "GB": ("Ltd", "Limited", "& Co", "LLP", "Group", "Partners"),
    "AU": ("Pty Ltd", "Pty Ltd", "& Co", "Group", "Holdings", "Partners"),
    "US": ("LLC", "Inc.", "& Co", "Group", "Corp.", "Partners"),
}
SUPPLIERS: dict[str, tuple[str, ...]] = {
    "GB": ("BT Business", "British Gas Business", "Viking Office Supplies", "Royal Mail",
           "Leeds City Council", "Screwfix", "Regus Leeds", "Xero UK", "Vodafone UK", "DPD UK"),
    "AU": ("Telstra", "AGL Energy", "Officeworks", "Australia Post", "City of Sydney",
           "Bunnings Trade", "Qantas", "Xero Australia", "Optus Business", "StarTrack"),
    "US": ("Comcast Business", "PG&E", "Staples", "USPS", "City of San Francisco",
           "The Home Depot Pro", "WeWork", "Xero Inc.", "Verizon Wireless", "FedEx"),
}  # fmt: skip
