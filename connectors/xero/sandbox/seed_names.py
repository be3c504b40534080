"""Names that make an organisation look like one of its country's: places, trades, people,
suppliers.  New Zealand's lists came first (the default edition); the UK, Australian and US
editions override places, suffixes and suppliers.  Order matters: the seed draws from them.
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

NZ_PLACES = (
    "Harbour", "Kauri", "Summit", "Tasman", "Pohutukawa", "Southern", "Coastal", "Alpine",
    "Riverstone", "Kowhai", "Matai", "Rimu", "Ironsand", "Tussock", "Waitemata", "Ruapehu",
    "Greenstone", "Manuka", "Totara", "Westhaven", "Karaka", "Nikau", "Pukeko", "Kereru",
)  # fmt: skip
TRADES = (
    "Cafe", "Motors", "Dental", "Builders", "Design", "Logistics", "Legal", "Vets",
    "Electrical", "Plumbing", "Studio", "Physio", "Joinery", "Brewing", "Landscapes",
    "Print", "Catering", "Marine", "Optometrists", "Engineering",
)  # fmt: skip
NZ_SUFFIXES = ("Ltd", "Limited", "& Co", "Group", "Holdings", "Partners")
FIRST_NAMES = ("Aroha", "Ben", "Chloe", "Dev", "Emma", "Finn", "Grace", "Hemi", "Isla", "Jack",
          "Kiri", "Liam", "Maia", "Noah", "Olivia", "Rawiri", "Sophie", "Wiremu")  # fmt: skip
LAST_NAMES = ("Walker", "Ngata", "Smith", "Patel", "Wilson", "Tawhiri", "Brown", "Chen",
         "Taylor", "Parata", "Singh", "Thompson", "Kumar", "Campbell")  # fmt: skip
NZ_SUPPLIERS = (
    "Spark NZ", "Mercury Energy", "Office Supplies Direct", "PB Tech", "Auckland Council",
    "NZ Post", "Z Energy", "Harbourside Property Management", "Xero", "Vodafone NZ",
    "Chorus Wholesale", "Bunnings Trade", "Air New Zealand", "Noel Leeming Commercial",
)  # fmt: skip
