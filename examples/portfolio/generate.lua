-- Synthetic portfolio for `tallyman import accounts FILE`: one CSV row per
-- debt, consumers with several debts on consecutive rows sharing external_id.
-- Every name, address, phone, email, creditor and amount is made up.
--
--   ./tallyman eval --raw --instr-limit 2000000000 --time-limit 60000 \
--       examples/portfolio/generate.lua > examples/portfolio/accounts.csv
--
-- It only computes and returns strings (the sandbox has no io/os): the CSV in
-- blocks of BLOCK rows, one string per block, each without its final newline
-- (`eval --raw` prints every returned string followed by one).
--
-- Sizes. N is the number of rows (debts), not consumers. Everything a run
-- returns must fit in the memory limit (64 MiB by default, and the printed
-- text is capped at the same size): keep a run to about 100,000 rows (one
-- row is ~186 bytes; 250,000 rows no longer fit). For more, split the run
-- into PARTS runs of the same N (each prints its share of the blocks, only
-- part 1 prints the header) and append their outputs, or raise --mem-limit;
-- see README.md.
-- The settings may also be given as globals by a line put before this
-- file, e.g. `N, PART, PARTS = 1000000, 3, 10`. With `OUTCOMES = true` it
-- prints, instead of the accounts, the payments the same debts made in the
-- 60 days after TODAY (JSON lines for `tallyman event`), drawn from a hidden
-- propensity to pay that a trained model should rediscover:
--
--   (echo 'OUTCOMES = true'; cat examples/portfolio/generate.lua) > /tmp/o.lua
--   ./tallyman eval --raw --instr-limit 2000000000 --time-limit 60000 /tmp/o.lua
--
-- Reproducible: each block of BLOCK rows is drawn from its own seed
-- (SEED, block number), so the rows do not depend on PARTS, and the first
-- 10,000 rows of any N are the 10,000-row sample.
local N     = N or 10000          -- rows (debts) in the whole file
local PARTS = PARTS or 1          -- the file is made by this many runs ...
local PART  = PART or 1           -- ... and this run prints part PART (1..PARTS)
local OUTCOMES = OUTCOMES or false -- true: print the 60 days after TODAY as events instead

local SEED  = 20261123
local BLOCK = 10000               -- rows per seed and per returned string
local TODAY = "2026-11-23"        -- dates are relative to this day

local random, floor, format, concat = math.random, math.floor, string.format, table.concat
local add_days = tm.time.add_days

assert(math.type(N) == "integer" and N >= 1, "N must be a positive integer")
assert(math.type(PARTS) == "integer" and PARTS >= 1 and math.type(PART) == "integer"
       and PART >= 1 and PART <= PARTS, "need 1 <= PART <= PARTS")

local HEADER = "external_id,debt_id,first_name,last_name,address1,city,state,zip,phone,email,"
            .. "date_of_birth,timezone,language,creditor,debt_type,balance,currency,"
            .. "days_past_due,charge_off_date,last_payment_date,"
            .. "sms_consent,autodial_consent,email_consent,consent_date,consent_source,preferred_channel"

---------------------------------------------------------------------------
-- Weighted choice: a list of { value, weight } becomes a sampler.
local function sampler(list)
    local values, cum, total = {}, {}, 0
    for i, e in ipairs(list) do
        total = total + e[2]
        values[i], cum[i] = e[1], total
    end
    local n = #values
    return function()
        local r = random() * total
        local lo, hi = 1, n               -- first i with cum[i] > r
        while lo < hi do
            local mid = (lo + hi) // 2
            if cum[mid] > r then hi = mid else lo = mid + 1 end
        end
        return values[lo]
    end
end

local function one_of(list) return list[random(#list)] end

---------------------------------------------------------------------------
-- Geography. States weighted by population (2020 census, thousands); per
-- state a few cities as { name, 3-digit zip prefix, area code, zone }; zone
-- nil means the state's usual one (first in `zone`). Every zone is checked
-- against tm.time.state_zones below.
local ET, CT, MT, PT = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
local states = {
    { "CA", 39538, PT, { { "Los Angeles", "900", "213" }, { "San Diego", "921", "619" },
        { "San Jose", "951", "408" }, { "San Francisco", "941", "415" }, { "Fresno", "937", "559" },
        { "Sacramento", "958", "916" }, { "Oakland", "946", "510" }, { "Long Beach", "908", "562" } } },
    { "TX", 29146, CT, { { "Houston", "770", "713" }, { "San Antonio", "782", "210" },
        { "Dallas", "752", "214" }, { "Austin", "787", "512" }, { "Fort Worth", "761", "817" },
        { "El Paso", "799", "915", MT }, { "Arlington", "760", "817" }, { "Corpus Christi", "784", "361" } } },
    { "FL", 21538, ET, { { "Jacksonville", "322", "904" }, { "Miami", "331", "305" },
        { "Tampa", "336", "813" }, { "Orlando", "328", "407" }, { "St. Petersburg", "337", "727" },
        { "Tallahassee", "323", "850" }, { "Pensacola", "325", "850", CT } } },
    { "NY", 20201, ET, { { "New York", "100", "212" }, { "Brooklyn", "112", "718" },
        { "Bronx", "104", "718" }, { "Buffalo", "142", "716" }, { "Rochester", "146", "585" },
        { "Syracuse", "132", "315" }, { "Albany", "122", "518" }, { "Yonkers", "107", "914" } } },
    { "PA", 13003, ET, { { "Philadelphia", "191", "215" }, { "Pittsburgh", "152", "412" },
        { "Allentown", "181", "610" }, { "Erie", "165", "814" }, { "Harrisburg", "171", "717" },
        { "Scranton", "185", "570" } } },
    { "IL", 12812, CT, { { "Chicago", "606", "312" }, { "Chicago", "606", "773" },
        { "Aurora", "605", "630" }, { "Naperville", "605", "630" }, { "Joliet", "604", "815" },
        { "Rockford", "611", "815" }, { "Springfield", "627", "217" }, { "Peoria", "616", "309" } } },
    { "OH", 11799, ET, { { "Columbus", "432", "614" }, { "Cleveland", "441", "216" },
        { "Cincinnati", "452", "513" }, { "Toledo", "436", "419" }, { "Akron", "443", "330" },
        { "Dayton", "454", "937" } } },
    { "GA", 10712, ET, { { "Atlanta", "303", "404" }, { "Augusta", "309", "706" },
        { "Columbus", "319", "706" }, { "Savannah", "314", "912" }, { "Macon", "312", "478" } } },
    { "NC", 10439, ET, { { "Charlotte", "282", "704" }, { "Raleigh", "276", "919" },
        { "Greensboro", "274", "336" }, { "Durham", "277", "919" }, { "Wilmington", "284", "910" } } },
    { "MI", 10077, "America/Detroit", { { "Detroit", "482", "313" }, { "Grand Rapids", "495", "616" },
        { "Warren", "480", "586" }, { "Lansing", "489", "517" }, { "Ann Arbor", "481", "734" } } },
    { "NJ", 9289, ET, { { "Newark", "071", "973" }, { "Jersey City", "073", "201" },
        { "Paterson", "075", "973" }, { "Trenton", "086", "609" }, { "Camden", "081", "856" } } },
    { "VA", 8631, ET, { { "Virginia Beach", "234", "757" }, { "Norfolk", "235", "757" },
        { "Richmond", "232", "804" }, { "Chesapeake", "233", "757" }, { "Arlington", "222", "703" },
        { "Roanoke", "240", "540" } } },
    { "WA", 7705, PT, { { "Seattle", "981", "206" }, { "Spokane", "992", "509" },
        { "Tacoma", "984", "253" }, { "Vancouver", "986", "360" }, { "Bellevue", "980", "425" } } },
    { "AZ", 7152, "America/Phoenix", { { "Phoenix", "850", "602" }, { "Tucson", "857", "520" },
        { "Mesa", "852", "480" }, { "Flagstaff", "860", "928" } } },
    { "MA", 7030, ET, { { "Boston", "021", "617" }, { "Worcester", "016", "508" },
        { "Springfield", "011", "413" }, { "Lowell", "018", "978" }, { "Cambridge", "021", "617" } } },
    { "TN", 6911, CT, { { "Nashville", "372", "615" }, { "Memphis", "381", "901" },
        { "Knoxville", "379", "865", ET }, { "Chattanooga", "374", "423", ET } } },
    { "IN", 6786, "America/Indiana/Indianapolis", { { "Indianapolis", "462", "317" },
        { "Fort Wayne", "468", "260" }, { "Evansville", "477", "812", CT }, { "South Bend", "466", "574" },
        { "Gary", "464", "219", CT } } },
    { "MD", 6177, ET, { { "Baltimore", "212", "410" }, { "Columbia", "210", "410" },
        { "Germantown", "208", "301" }, { "Silver Spring", "209", "301" }, { "Frederick", "217", "301" } } },
    { "MO", 6154, CT, { { "Kansas City", "641", "816" }, { "St. Louis", "631", "314" },
        { "Springfield", "658", "417" }, { "Columbia", "652", "573" } } },
    { "WI", 5894, CT, { { "Milwaukee", "532", "414" }, { "Madison", "537", "608" },
        { "Green Bay", "543", "920" } } },
    { "CO", 5774, MT, { { "Denver", "802", "303" }, { "Colorado Springs", "809", "719" },
        { "Aurora", "800", "720" }, { "Fort Collins", "805", "970" } } },
    { "MN", 5706, CT, { { "Minneapolis", "554", "612" }, { "St. Paul", "551", "651" },
        { "Rochester", "559", "507" }, { "Duluth", "558", "218" } } },
    { "SC", 5118, ET, { { "Columbia", "292", "803" }, { "Charleston", "294", "843" },
        { "Greenville", "296", "864" } } },
    { "AL", 5024, CT, { { "Birmingham", "352", "205" }, { "Montgomery", "361", "334" },
        { "Mobile", "366", "251" }, { "Huntsville", "358", "256" } } },
    { "LA", 4658, CT, { { "New Orleans", "701", "504" }, { "Baton Rouge", "708", "225" },
        { "Shreveport", "711", "318" }, { "Lafayette", "705", "337" } } },
    { "KY", 4506, ET, { { "Louisville", "402", "502", "America/Kentucky/Louisville" },
        { "Lexington", "405", "859" }, { "Bowling Green", "421", "270", CT } } },
    { "OR", 4237, PT, { { "Portland", "972", "503" }, { "Salem", "973", "503" },
        { "Eugene", "974", "541" }, { "Bend", "977", "541" } } },
    { "OK", 3959, CT, { { "Oklahoma City", "731", "405" }, { "Tulsa", "741", "918" },
        { "Norman", "730", "405" } } },
    { "CT", 3606, ET, { { "Bridgeport", "066", "203" }, { "New Haven", "065", "203" },
        { "Hartford", "061", "860" }, { "Stamford", "069", "203" } } },
    { "UT", 3272, MT, { { "Salt Lake City", "841", "801" }, { "West Valley City", "841", "801" },
        { "Provo", "846", "801" }, { "Ogden", "844", "801" } } },
    { "PR", 3286, "America/Puerto_Rico", { { "San Juan", "009", "787" }, { "Bayamón", "009", "787" },
        { "Carolina", "009", "787" }, { "Ponce", "007", "787" } } },
    { "IA", 3190, CT, { { "Des Moines", "503", "515" }, { "Cedar Rapids", "524", "319" },
        { "Davenport", "528", "563" } } },
    { "NV", 3105, PT, { { "Las Vegas", "891", "702" }, { "Henderson", "890", "702" },
        { "Reno", "895", "775" } } },
    { "AR", 3012, CT, { { "Little Rock", "722", "501" }, { "Fayetteville", "727", "479" },
        { "Fort Smith", "729", "479" } } },
    { "MS", 2961, CT, { { "Jackson", "392", "601" }, { "Gulfport", "395", "228" },
        { "Southaven", "386", "662" } } },
    { "KS", 2938, CT, { { "Wichita", "672", "316" }, { "Overland Park", "662", "913" },
        { "Kansas City", "661", "913" }, { "Topeka", "666", "785" } } },
    { "NM", 2118, MT, { { "Albuquerque", "871", "505" }, { "Las Cruces", "880", "575" },
        { "Santa Fe", "875", "505" } } },
    { "NE", 1962, CT, { { "Omaha", "681", "402" }, { "Lincoln", "685", "402" } } },
    { "ID", 1839, "America/Boise", { { "Boise", "837", "208" }, { "Meridian", "836", "208" },
        { "Idaho Falls", "834", "208" }, { "Coeur d'Alene", "838", "208", PT } } },
    { "WV", 1794, ET, { { "Charleston", "253", "304" }, { "Huntington", "257", "304" },
        { "Morgantown", "265", "304" } } },
    { "HI", 1455, "Pacific/Honolulu", { { "Honolulu", "968", "808" }, { "Hilo", "967", "808" } } },
    { "NH", 1377, ET, { { "Manchester", "031", "603" }, { "Nashua", "030", "603" },
        { "Concord", "033", "603" } } },
    { "ME", 1362, ET, { { "Portland", "041", "207" }, { "Lewiston", "042", "207" },
        { "Bangor", "044", "207" } } },
    { "RI", 1097, ET, { { "Providence", "029", "401" }, { "Warwick", "028", "401" },
        { "Cranston", "029", "401" } } },
    { "MT", 1084, MT, { { "Billings", "591", "406" }, { "Missoula", "598", "406" },
        { "Great Falls", "594", "406" } } },
    { "DE", 990, ET, { { "Wilmington", "198", "302" }, { "Dover", "199", "302" } } },
    { "SD", 887, CT, { { "Sioux Falls", "571", "605" }, { "Rapid City", "577", "605", MT } } },
    { "ND", 779, CT, { { "Fargo", "581", "701" }, { "Bismarck", "585", "701" },
        { "Grand Forks", "582", "701" } } },
    { "AK", 733, "America/Anchorage", { { "Anchorage", "995", "907" }, { "Fairbanks", "997", "907" },
        { "Juneau", "998", "907", "America/Juneau" } } },
    { "DC", 690, ET, { { "Washington", "200", "202" } } },
    { "VT", 643, ET, { { "Burlington", "054", "802" }, { "Rutland", "057", "802" } } },
    { "WY", 577, MT, { { "Cheyenne", "820", "307" }, { "Casper", "826", "307" } } },
}

local state_weights = {}
for i, s in ipairs(states) do
    local code, zone, cities = s[1], s[3], s[4]
    local valid = {}
    for _, z in ipairs(tm.time.state_zones(code)) do valid[z] = true end
    for _, c in ipairs(cities) do
        c[4] = c[4] or zone
        assert(valid[c[4]], code .. "/" .. c[1] .. ": " .. c[4] .. " is not a zone of the state")
    end
    state_weights[i] = { s, s[2] }
end
local pick_state = sampler(state_weights)

---------------------------------------------------------------------------
-- People. Common names, by the language the consumer prefers (a Spanish
-- speaker mostly has a Spanish name; English speakers have all kinds).
local names = {
    en_first = { "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
        "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
        "Thomas", "Sarah", "Christopher", "Karen", "Charles", "Lisa", "Daniel", "Nancy", "Matthew",
        "Betty", "Anthony", "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly",
        "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin",
        "Amanda", "Brian", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Jason",
        "Rebecca", "George", "Laura", "Edward", "Sharon", "Jeffrey", "Cynthia", "Ryan", "Amy",
        "Jacob", "Angela", "Nicholas", "Brenda", "Eric", "Nicole", "Jonathan", "Samantha",
        "Brandon", "Katherine", "Tyler", "Olivia", "Ethan", "Emma", "Noah", "Ava", "Liam", "Sophia",
        "Jamal", "Aaliyah", "DeShawn", "Latoya", "Tyrone", "Keisha", "D'Andre", "Renée", "Zoë",
        "Chloé", "André", "Jo Ann", "Mary Beth", "Billy Ray" },
    en_last = { "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
        "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
        "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
        "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts",
        "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart",
        "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Peterson", "Cooper", "Reed", "Bailey",
        "Bell", "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks",
        "Bennett", "Gray", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross", "Foster",
        "Washington", "Patel", "Kim", "Nguyen", "Singh", "Shah", "Martinez", "Garcia", "Lopez",
        "O'Brien", "O'Connor", "O'Neil", "D'Angelo", "McDonald", "MacLeod", "Smith-Jones",
        "St. Clair", "Van Dyke", "Müller", "Kowalski", "Schröder" },
    es_first = { "José", "María", "Juan", "Luis", "Carlos", "Jesús", "Ana", "Rosa", "Guadalupe",
        "Miguel", "Francisco", "Jorge", "Alejandro", "Sofía", "Valentina", "Camila", "Lucía",
        "Mónica", "Verónica", "Ramón", "Raúl", "Andrés", "Héctor", "Óscar", "Adrián", "Martín",
        "Iván", "Ángel", "Inés", "Rocío", "Yesenia", "Maribel", "Alejandra", "Gabriela",
        "Fernando", "Ricardo", "Eduardo", "Javier", "Sergio", "Diego", "Daniela", "María José" },
    es_last = { "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez",
        "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales",
        "Reyes", "Gutiérrez", "Ortiz", "Chávez", "Ruiz", "Álvarez", "Castillo", "Jiménez",
        "Vásquez", "Romero", "Herrera", "Medina", "Aguilar", "Vargas", "Castro", "Muñoz", "Peña",
        "Núñez", "de la Cruz", "García López" },
    zh_first = { "Wei", "Jing", "Li", "Ming", "Xiu Ying", "Hui", "Yan", "Jun", "Lei", "Fang",
        "Tao", "Mei" },
    zh_last = { "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu" },
    vi_first = { "Minh", "Anh", "Thảo", "Hùng", "Lan", "Tuấn", "Linh", "Phương", "Dũng", "Hương" },
    vi_last = { "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
        "Nguyen", "Tran" },
    fr_first = { "François", "Amélie", "Étienne", "Céline", "Jean-Luc", "Hélène", "Benoît", "Léa",
        "Marie-Claire", "Mathieu" },
    fr_last = { "Dubois", "Lefèvre", "Girard", "Moreau", "Bélanger", "Côté", "Gagnon", "Tremblay",
        "Lévesque" },
}
-- Which name list a consumer's name comes from, by language.
local name_origin = {
    en = sampler { { "en", 88 }, { "es", 8 }, { "zh", 1.5 }, { "vi", 1.5 }, { "fr", 1 } },
    es = sampler { { "es", 92 }, { "en", 8 } },
    zh = sampler { { "zh", 95 }, { "en", 5 } },
    vi = sampler { { "vi", 95 }, { "en", 5 } },
    fr = sampler { { "fr", 90 }, { "en", 10 } },
}
local pick_language = sampler { { "en", 80 }, { "es", 17 }, { "zh", 1.2 }, { "vi", 1.2 }, { "fr", 0.6 } }

-- Email local parts need ASCII: fold every name once, up front.
local fold = {
    ["á"] = "a", ["à"] = "a", ["â"] = "a", ["ä"] = "a", ["ã"] = "a", ["ă"] = "a", ["ả"] = "a",
    ["ạ"] = "a", ["ấ"] = "a", ["ầ"] = "a", ["ặ"] = "a", ["Á"] = "a",
    ["é"] = "e", ["è"] = "e", ["ê"] = "e", ["ë"] = "e", ["ế"] = "e", ["ễ"] = "e", ["É"] = "e",
    ["í"] = "i", ["ì"] = "i", ["î"] = "i", ["ï"] = "i",
    ["ó"] = "o", ["ò"] = "o", ["ô"] = "o", ["ö"] = "o", ["õ"] = "o", ["ơ"] = "o", ["Ó"] = "o",
    ["ú"] = "u", ["ù"] = "u", ["û"] = "u", ["ü"] = "u", ["ũ"] = "u", ["ư"] = "u",
    ["ỳ"] = "y", ["ñ"] = "n", ["ç"] = "c", ["Đ"] = "d", ["đ"] = "d",
}
local ascii = {}
for _, list in pairs(names) do
    for _, name in ipairs(list) do
        local s = name:gsub(utf8.charpattern, function(ch)
            if #ch == 1 then return ch:lower() end
            return fold[ch] or error("no ASCII fold for '" .. ch .. "' in " .. name)
        end)
        ascii[name] = s:gsub("[^a-z]", "")
    end
end

---------------------------------------------------------------------------
-- Addresses.
local streets = { "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill",
    "Park", "Sunset", "Ridge", "Church", "Mill", "River", "Spring", "Highland", "Lincoln",
    "Jefferson", "Madison", "Franklin", "Walnut", "Chestnut", "Willow", "Meadow", "Forest",
    "Center", "Union", "Market", "Broad", "Front", "Water", "College", "Jackson", "Adams",
    "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "10th", "12th", "Martin Luther King Jr",
    "Old Mill", "Country Club", "Prospect", "Orchard", "Dogwood", "Magnolia", "Peachtree" }
local suffixes = { "St", "St", "St", "Ave", "Ave", "Rd", "Rd", "Dr", "Dr", "Ln", "Blvd", "Ct",
    "Way", "Pl", "Pkwy", "Cir", "Ter", "Hwy" }
local pr_streets = { "Calle Luna", "Calle Sol", "Calle Loíza", "Calle San Francisco",
    "Avenida Ponce de León", "Calle Las Flores", "Calle 5", "Calle Betances" }
local units = { "Apt", "Apt", "Apt", "Unit", "#" }

local function address(state)
    local r = random()
    if r < 0.02 then return "" end                          -- unknown
    if r < 0.05 then return format("PO Box %d", random(1, 9999)) end
    local number = random(1, 100) <= 70 and random(1, 9999) or random(10000, 99999)
    local line
    if state == "PR" then
        line = format("%s %d", one_of(pr_streets), random(1, 999))
    else
        line = format("%d %s %s", number, one_of(streets), one_of(suffixes))
    end
    r = random()
    if r < 0.10 then              -- "12 Main St, Apt 4B": a comma, so the field is quoted
        local unit = one_of(units)
        local id = random(1, 3) == 1 and format("%d%s", random(1, 12), string.char(64 + random(1, 6)))
                                      or tostring(random(1, 999))
        return format('"%s, %s%s%s"', line, unit, unit == "#" and "" or " ", id)
    elseif r < 0.14 then          -- "12 Main St Apt 4": no comma, no quotes
        return format("%s Apt %d", line, random(1, 40))
    elseif r < 0.142 then         -- a double quote inside a quoted field
        return format('"%s, Apt ""%s"""', line, string.char(64 + random(1, 6)))
    end
    return line
end

---------------------------------------------------------------------------
-- Debts. debt_type mix; creditors (made up) by debt type; balance medians by
-- type, tuned so the whole portfolio's median is about $1,200.
local pick_type = sampler { { "credit_card", 40 }, { "medical", 20 }, { "personal_loan", 12 },
    { "auto_loan", 8 }, { "utility", 8 }, { "telecom", 8 }, { "other", 4 } }
local function q(s) return s:find('[,"]') and '"' .. s:gsub('"', '""') .. '"' or s end
local creditors_by_type = {
    credit_card   = { "Harborline Bank, N.A.", "Harborline Bank, N.A.", "Lakeshore Card Services" },
    medical       = { "Cedar Ridge Health System", "Maple Street Medical Group" },
    personal_loan = { "Ironwood Personal Lending" },
    auto_loan     = { "Quillfeather Auto Finance" },
    utility       = { "Prairie Gas & Electric Co." },
    telecom       = { "Brightwater Wireless" },
    other         = { "Harborline Bank, N.A.", "Lakeshore Card Services", "Cedar Ridge Health System",
                      "Ironwood Personal Lending", "Brightwater Wireless" },
}
for _, list in pairs(creditors_by_type) do
    for i, c in ipairs(list) do list[i] = q(c) end
end
-- log-normal: median in dollars, sigma of ln(balance)
local balance_shape = {
    credit_card = { 1500, 1.0 }, medical = { 650, 1.1 }, personal_loan = { 2800, 0.9 },
    auto_loan = { 7500, 0.8 }, utility = { 380, 0.8 }, telecom = { 320, 0.8 }, other = { 900, 1.1 },
}
local MIN_CENTS, MAX_CENTS = 2500, 4000000

local function balance(dtype)
    local shape = balance_shape[dtype]
    local median, sigma = shape[1] * 100, shape[2]
    while true do
        -- Box-Muller; 1 - random() is in (0, 1], never log(0)
        local z = math.sqrt(-2 * math.log(1 - random())) * math.cos(2 * math.pi * random())
        local cents = floor(median * math.exp(sigma * z) + 0.5)
        if cents >= MIN_CENTS and cents <= MAX_CENTS then
            return format("%d.%02d", cents // 100, cents % 100)
        end
    end
end

-- days past due: 10% current, 35% 1-30, 25% 31-90, 15% 91-180, 15% 181-1500
-- (the last skewed towards the recent end)
local pick_bucket = sampler { { 0, 10 }, { 1, 35 }, { 2, 25 }, { 3, 15 }, { 4, 15 } }
local function days_past_due()
    local b = pick_bucket()
    if b == 0 then return 0
    elseif b == 1 then return random(1, 30)
    elseif b == 2 then return random(31, 90)
    elseif b == 3 then return random(91, 180)
    end
    return 181 + floor(1320 * random() ^ 1.5)        -- 181..1500
end

---------------------------------------------------------------------------
-- One consumer: the personal part of the row, the same on each of their debts.
local DOB_DAYS = 24106                  -- 1940-01-01 .. 2005-12-31
local domains = { "example.com", "example.com", "example.com", "example.net", "example.net",
    "example.org" }

local function consumer()
    local lang = pick_language()
    local origin = name_origin[lang]()
    local first, last = one_of(names[origin .. "_first"]), one_of(names[origin .. "_last"])
    local st = pick_state()
    local state = st[1]
    local city = one_of(st[4])
    -- zip: the city's 3-digit prefix and two more digits
    local zip = random() < 0.99 and format("%s%02d", city[2], random(1, 99)) or ""
    local phone = random() < 0.90 and format("+1%s55501%02d", city[3], random(0, 99)) or ""
    local dob_y = ""
    local dob = ""
    if random() < 0.96 then
        -- triangular over 1940..2005 (most debtors are middle-aged)
        local d = floor((random() + random()) * 0.5 * (DOB_DAYS + 1))
        dob = add_days("1940-01-01", d)
        dob_y = dob:sub(3, 4)
    end
    local email = ""
    if random() < 0.65 then
        local f, l = ascii[first], ascii[last]
        local r = random(1, 4)
        if r == 1 then email = format("%s.%s%d", f, l, random(1, 99))
        elseif r == 2 then email = format("%s%s%s", f, l, dob_y ~= "" and dob_y or tostring(random(10, 99)))
        elseif r == 3 then email = format("%s%s%d", f:sub(1, 1), l, random(100, 9999))
        else email = format("%s_%s%d", f, l, random(1, 999)) end
        email = email .. "@" .. one_of(domains)
    end
    local zone = random() < 0.60 and city[4] or ""
    local addr = address(state)
    return format("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s", first, last, addr, q(city[1]),
                  state, zip, phone, email, dob, zone, lang),
           { phone = phone ~= "", email = email ~= "", address = zip ~= "" and addr ~= "", state = state }
end

-- One debt: the part of the row after the personal data.
local function debt()
    local dtype = pick_type()
    local creditor = one_of(creditors_by_type[dtype])
    local dpd = days_past_due()
    local charge_off = dpd > 180 and add_days(TODAY, 180 - dpd) or ""
    local last_payment = ""
    if random() < (dtype == "medical" and 0.65 or 0.92) then
        local ago
        if dpd == 0 then
            ago = random(3, 40)                         -- current: paid last month
        elseif dpd > 1 and random() < 0.2 then          -- a partial payment while delinquent,
            ago = random(math.max(1, dpd - 179), dpd - 1) -- before any charge-off
        else
            ago = dpd + random(1, 35)                   -- the payment before the first miss
        end
        last_payment = add_days(TODAY, -ago)
    end
    local bal = balance(dtype)
    return format("%s,%s,%s,USD,%d,%s,%s", creditor, dtype, bal, dpd, charge_off, last_payment),
           { dtype = dtype, dpd = dpd, balance = bal, charged_off = charge_off ~= "",
             last_payment = last_payment }
end

---------------------------------------------------------------------------
-- Outcomes (OUTCOMES = true): what each debt did in the 60 days after TODAY,
-- as `tallyman event` JSON lines, for training and checking scoring models.
-- The hidden propensity to pay below is what a model trained on these
-- outcomes should rediscover. Draws come from a hash of the row number, not
-- from math.random, so the accounts file is the same with or without them.
local HORIZON = 60
local type_effect = { credit_card = 0, medical = -0.3, personal_loan = 0.2, auto_loan = 0.5,
                      utility = 0.3, telecom = -0.2, other = -0.1 }

-- splitmix64 of (row, k) as a number in [0, 1)
local function urand(row, k)
    local z = row * 0x9E3779B97F4A7C15 + k * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    z = z ~ (z >> 31)
    return (z >> 11) / 9007199254740992.0
end

local function cents_of(text)
    local d, c = text:match("^(%d+)%.(%d%d)$")
    return tonumber(d) * 100 + tonumber(c)
end

local function outcome(row, a)
    local recent = a.last_payment ~= "" and a.last_payment >= add_days(TODAY, -60)
    local logit = -1.0 - 0.008 * math.min(a.dpd, 360) + type_effect[a.dtype]
                  - 0.35 * math.log(cents_of(a.balance) / 100000)
                  + (a.dpd == 0 and 1.5 or 0) + (recent and 0.8 or 0)
                  + (a.last_payment == "" and -0.6 or 0) + (a.charged_off and -0.5 or 0)
    local p = 1 / (1 + math.exp(-logit))
    if urand(row, 1) >= p then return nil end
    local cents = cents_of(a.balance)
    if urand(row, 2) >= 0.5 then                      -- half pay in part: 10% to 50%
        cents = math.max(100, floor(cents * (0.1 + 0.4 * urand(row, 3))))
    end
    local day = add_days(TODAY, 1 + floor(urand(row, 4) * HORIZON))
    local hour = 9 + floor(urand(row, 5) * 10)
    return format('{"key":"outcome-D%09d","type":"payment","debt_id":"D%09d","at":"%sT%02d:00:00Z","amount":"%d.%02d"}',
                  row, row, day, hour, cents // 100, cents % 100)
end

---------------------------------------------------------------------------
-- Consent and preferences from the placement, per consumer (`row` is the row
-- of their first debt): most consumers gave no consent to texts (about one in
-- four with a phone did, on a credit application or an online account), a few
-- to autodialed calls; email consent where there is an email. Drawn from a
-- hash of the row like the outcomes, so the other columns stay as they were.
local SOURCES = { "credit application", "online account", "phone call" }
local PREFERRED = { "sms", "email", "letter", "call" }

local function reach(row, p)
    local sms = p.phone and urand(row, 11) < 0.25
    local auto = p.phone and urand(row, 12) < 0.10
    local mail = p.email and urand(row, 13) < 0.45
    local date, source = "", ""
    if sms or auto or mail then
        date = add_days(TODAY, -(30 + floor(urand(row, 14) * 700)))
        source = SOURCES[1 + floor(urand(row, 15) * #SOURCES)]
    end
    local pref = urand(row, 16) < 0.15 and PREFERRED[1 + floor(urand(row, 17) * #PREFERRED)] or ""
    return format("%s,%s,%s,%s,%s,%s", sms and "yes" or "no", auto and "yes" or "no",
                  p.email and (mail and "yes" or "no") or "", date, source, pref),
           { sms = sms, email = p.email, address = p.address, email_consent = mail, phone = p.phone,
             state = p.state, preferred = pref ~= "" and pref or nil }
end

-- Answers to the first message of some early-stage debts: the shipped
-- strategy library's journey for the debt (lib/journeys.lua routes it as the
-- engine does) sends it on the day of placement, keyed
-- "<debt>:<journey>:1:<action>"; which journey, which channel and which
-- action come from the journey's own start, on the debt as the engine hands
-- it over (its channels from the contact points and consents). A few emails
-- bounce, some texts are answered STOP, others are delivered. Fed two days
-- after, by `tallyman run --events`.
local journeys -- lib.journeys, loaded when the first answer is drawn
local START = { now = tm.time.parse(TODAY .. "T05:00:00Z"), zone = "America/New_York" }

-- The debt as a journey sees it, and its first message: journey id, action
-- index and channel (nil when the start sends nothing).
local function first_message(id, a, r)
    local channels = {}
    if r.phone then channels.call = true end
    if r.phone and r.sms then channels.sms = true end
    if r.email then channels.email = true end
    if r.address then channels.letter = true end
    local bal = cents_of(a.balance)
    local d = { debt_id = id, id = id, state = r.state, currency = "USD", dispute = "none", status = "open",
                zone = START.zone, language = r.language, balance = bal, placed_balance = bal,
                days_past_due = a.dpd, debt_type = a.dtype, flags = {}, channels = channels,
                last_payment_date = a.last_payment ~= "" and a.last_payment or nil,
                preferred_channel = r.preferred }
    journeys = journeys or require("lib.journeys")
    local J = journeys.select(d)
    if not J then return nil end
    local res = J:start(d, START)
    for i, act in ipairs(res.actions) do
        if act.type == "send" then return J.id, i - 1, act.channel end
    end
    return nil
end

local function answers(row, a, r)
    -- Answers come from consumers who agreed to the channel, in English (a
    -- Spanish text with its disclosures is too long for an SMS and goes by
    -- another channel, under another key).
    if a.dpd < 1 or a.dpd > 30 or r.language ~= "en" then return nil end
    local id = format("D%09d", row)
    local jid, action, ch = first_message(id, a, r)
    if not jid then return nil end
    local key = format("%s:%s:1:%d", id, jid, action)
    -- early on the second morning, before any payment of that day (they come
    -- from 09:00): the message goes at 17:30 local time, which is already the
    -- next day in UTC west of New York
    local at = add_days(TODAY, 2) .. format("T08:%02d:00Z", floor(urand(row, 22) * 60))
    local u = urand(row, 20)
    if ch == "email" and not r.email_consent then return nil end
    if ch == "email" and u < 0.04 then
        return format('{"key":"bounce-%s","type":"bounced","message":"%s","kind":"hard","at":"%s"}',
                      id, key, at)
    elseif ch == "sms" and u < 0.30 then
        local text = u < 0.12 and "STOP" or u < 0.20 and "stop texting me" or "Can I pay next week?"
        return format('{"key":"reply-%s","type":"inbound_reply","message":"%s","text":"%s","at":"%s"}',
                      id, key, text, at)
    elseif (ch == "sms" or ch == "email") and u > 0.90 then
        return format('{"key":"receipt-%s","type":"delivered","message":"%s","at":"%s"}', id, key, at)
    end
    return nil
end

---------------------------------------------------------------------------
-- Rows first..last of block b, from the block's own seed. A consumer's
-- external_id is the row number of their first debt; a consumer whose debts
-- would run past the block end is cut short.
local function block(b, first, last)
    math.randomseed(SEED, b)
    local rows, n = {}, 0
    if b == 1 and PART == 1 and not OUTCOMES then n = 1; rows[1] = HEADER end
    local row = first
    while row <= last do
        local debts = 1
        if random() < 0.08 then debts = random() < 0.75 and 2 or 3 end
        if row + debts - 1 > last then debts = last - row + 1 end
        local ext = format("C%08d", row)
        local person, points = consumer()
        local consents, r = reach(row, points)
        r.language = person:match(",(%a%a)$")
        for _ = 1, debts do
            local text, attrs = debt()
            if OUTCOMES then
                local ans = answers(row, attrs, r)
                if ans then n = n + 1; rows[n] = ans end
                local ev = outcome(row, attrs)
                if ev then n = n + 1; rows[n] = ev end
            else
                n = n + 1
                rows[n] = format("%s,D%09d,%s,%s,%s", ext, row, person, text, consents)
            end
            row = row + 1
        end
    end
    return concat(rows, "\n")
end

local nblocks = (N + BLOCK - 1) // BLOCK
local from = (PART - 1) * nblocks // PARTS + 1
local to = PART * nblocks // PARTS
local out = {}
for b = from, to do
    local first = (b - 1) * BLOCK + 1
    out[#out + 1] = block(b, first, math.min(b * BLOCK, N))
end
if PART == 1 and #out == 0 and not OUTCOMES then out[1] = HEADER end
return table.unpack(out)
