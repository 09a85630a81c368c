"""FINAL bank for bench/memory_eval.py: written on 2026-12-04, never to be tuned on.

The TUNING, HELD-OUT and FRESH banks have all been looked at while `memory/` search was
tuned, so none of them measures it any more. This bank was written before the ranking
changes of issue 17 (memory on real conversations), without reading the search's word
lists, and is the one set of chats the search's design has never seen.

Same structure as banks.py (see there for the fields) and fresh_bank.py, with its own
twenty names and nicknames, storylines (a nurse up for promotion, a couple expecting twins,
a parent with dementia, a first house, paying off student loans, a horse, roller derby, a
transfer abroad, an engagement, a podcast, migraines, backyard hens, a van trip, a new
chemistry teacher, knitting, a candle shop, a late driving test, a long pilgrimage walk),
list questions, small talk, reactions, tails, call-backs, retellings, chatter frames, time
words and question phrasings; none of them a storyline, keyword or name of the other banks.
Mechanics (paraphrase share, call-backs) are those of the FRESH bank. As in the other banks,
about a quarter of the plain single-hop questions share no word with their evidence (they
echo the friend's question, or say "chickens" where the turn says "hens"); calibrated with
plain BM25 only, never with the store's search (seeds 1-5: ~58% overall, ~37% multi-session).

Do NOT use this bank to tune `memory/`: run it before and after a change, nothing more.
"""

T = dict  # readability

NAMES = [
    "Rosalind",
    "Tobias",
    "Ingrid",
    "Malik",
    "Beatriz",
    "Declan",
    "Yuki",
    "Farah",
    "Oskar",
    "Imogen",
    "Rafael",
    "Wren",
    "Hector",
    "Noor",
    "Felix",
    "Dominique",
    "Eleanor",
    "Kwame",
    "Margot",
    "Siddharth",
]
NICK = {
    "Rosalind": "Roz",
    "Tobias": "Toby",
    "Beatriz": "Bea",
    "Imogen": "Immy",
    "Rafael": "Rafa",
    "Eleanor": "Ellie",
    "Siddharth": "Sid",
    "Dominique": "Dom",
}
TIME_WORDS = [
    "on Wednesday",
    "Friday night",
    "three days ago",
    "the day before yesterday",
    "earlier today",
    "ten days ago",
    "over the long weekend",
    "this past Tuesday",
    "a fortnight ago",
    "Saturday afternoon",
]

FILLER = [
    "Heyyy {O}! How's life treating you?",
    "{O}! I was literally just thinking about you.",
    "Morning! Second cup of tea and it's not even nine.",
    "Oh, that's lovely, {O}.",
    "Honestly that's the best news I've heard all week.",
    "Ugh, I'm fighting off a cold, everyone at work has it.",
    "We finally cleaned out the hall closet and found three umbrellas.",
    "Ha! You always have the best stories, {O}.",
    "Same old here: work, dinner, sleep, repeat.",
    "I'm really glad you told me, {O}.",
    "That's a lot to carry. Be gentle with yourself.",
    "Okay, that made me laugh out loud on the train.",
    "The neighbors are renovating and the drilling starts at seven every day.",
    "I hope you're getting some sleep, {O}.",
    "Big hugs from here!",
    "How was your week, {O}?",
    "Fair enough, I'd have done the same.",
    "Sounds like a plan!",
    "We watched fireworks from the roof, nothing fancy but nice.",
    "It's freezing here, I'm wearing two pairs of socks.",
    "I'm so behind on emails it's embarrassing.",
    "You're doing better than you think, {O}.",
    "Totally, {O}. One step at a time.",
    "Thanks for checking in, it really helps.",
    "My phone's been acting up, sorry if I go quiet.",
    "Ooh, tell me everything!",
    "Haha no way. Classic.",
    "Okay, that's adorable.",
    "Making soup tonight, it's that kind of weather.",
    "Let's not leave it so long next time, {O}!",
    "Gotta run, dinner's burning! Talk later.",
    "Good night, {O}, sleep well!",
    "Weekend plans? I'm hoping for absolutely nothing.",
    "Hang in there, {O}. Rooting for you always.",
]
SHARE = [
    "",
    "",
    "",
    "",
    " [shared image: a photo of a rainy window]",
    " [shared image: a photo of a plate of tacos]",
    " [shared image: a photo of a messy bookshelf]",
    " [shared image: a photo of a snowy street]",
]
REACT = [
    "Hold on, {w}? {P}, that's huge!",
    "Okay {P}, the {w} part made me grin.",
    "{w}! Never a dull moment with you, {P}.",
    "Ooh, {w}. {P}, I need the full story.",
    "Seriously, {w}? You're amazing, {P}.",
    "That's so good to hear, {P}.",
    "How are you feeling about it now, {P}?",
    "Wow, {P}. What happens next?",
]
TAILS = [
    " Still a bit in shock, honestly.",
    " My sister says I should start a blog about it.",
    " Sorry, I know I've been rambling.",
    " Wild week, all in all.",
    " I'm trying to soak it all in.",
    " Celebrating with takeout tonight.",
    " Never thought I'd say that, ha.",
    " Anyway, what's new with you?",
]
CALLBACK = [
    "Wait, {P}, how did the {w} thing end up?",
    "Saw a meme about {w} and thought of you, {P}.",
    "My barber was going on about {w} today, {O}, small world.",
    "Not to bring up the {w} again, {P}, but I'm still curious.",
    "Whenever {w} comes up I tell people about you, {P}.",
    "Ha, {P}, the {w} saga continues?",
]
RETELL = [
    "Told my neighbor the {w} story over the fence today, then somehow we got onto {w2}, classic me.",
    "I recorded a voice memo about the {w} and the {w2} for myself, saying it out loud helps.",
    "My aunt called and the first thing she asked about was the {w}, then the {w2}, news travels fast.",
    "Ended up explaining the {w} to a stranger at the bus stop, and the {w2} too, I overshare.",
]
CHATTER = (
    [
        "{P}, what's new with the {kw}?",
        "Been meaning to ask about the {kw}, {P}. How's that?",
        "My coworker mentioned {kw} at lunch and I thought of you, {P}.",
        "Is the {kw} still eating all your time, {P}?",
    ],
    [
        "The {kw} is a lot some weeks, not gonna lie.",
        "Nothing big on the {kw} front, just plugging away.",
        "I keep boring everyone with {kw} talk, sorry {O}.",
        "Appreciate you asking about the {kw}, {O}, it helps to talk.",
    ],
)

FINAL_TOPICS = [
    T(
        kw=["new job", "ward", "night shifts", "hospital"],
        facts=[
            T(
                ev="I got offered the charge nurse job on the pediatric ward {t}, more responsibility but I think I'm ready.",
                q="What job was {P} offered?",
                para="What promotion did {P} get at the hospital?",
                tq="When did {P} get the job offer?",
            ),
            T(
                ask="How do you survive working overnight?",
                ev="Blackout curtains and zero caffeine after 3am. I basically sleep through every afternoon now.",
                q="How does {P} survive working overnight?",
                para="What does {P} avoid in the small hours?",
                od="Would {P} prefer a daytime schedule?",
            ),
        ],
    ),
    T(
        kw=["pregnancy", "twins", "nursery", "scans"],
        facts=[
            T(
                ev="We had the twelve-week scan {t} and there were TWO heartbeats. Twins! I cried, my partner just stared at the screen.",
                q="What did {P} find out at the scan?",
                para="How many babies is {P} expecting?",
                tq="When did {P} find out about the twins?",
            ),
            T(
                ev="Spent the whole weekend getting the nursery ready, sage green walls, and my dad built two matching cribs from scratch.",
                q="What color is {P}'s nursery?",
                para="Who made furniture for {P}'s newborns?",
            ),
        ],
    ),
    T(
        kw=["dementia", "memory care", "caregiving", "diagnosis"],
        facts=[
            T(
                ev="Mom got the dementia diagnosis {t}. The specialist was kind about it, but I sat in the parking lot for an hour afterwards.",
                q="What was {P}'s mom diagnosed with?",
                para="What illness does {P}'s mother have?",
                tq="When did {P} learn about their mother's illness?",
            ),
            T(
                ask="Is she still living on her own?",
                ev="Not anymore, we found her a room at a memory care home ten minutes from my apartment. She calls the staff her girls.",
                q="Where is {P}'s mom living now?",
                para="Who looks after {P}'s mother these days?",
            ),
        ],
    ),
    T(
        kw=["house", "mortgage", "inspection", "closing"],
        facts=[
            T(
                ev="We closed on our first house {t}! A little brick two-bedroom with a crooked porch, and it's all ours.",
                q="What kind of house did {P} buy?",
                para="What big purchase did {P} and their partner make?",
                tq="When did {P} close on the house?",
            ),
            T(
                ev="The inspection found the whole roof needs replacing, so there goes the savings I set aside for furniture.",
                q="What did the inspection find at {P}'s place?",
                para="Why is {P}'s decorating budget gone?",
                od="Would {P} be stressed about money right now?",
            ),
        ],
    ),
    T(
        kw=["student loans", "debt", "budget", "payments"],
        facts=[
            T(
                ev="Made the very last payment on my student loans {t}. Eleven years, forty-two thousand dollars, done!",
                q="What loans did {P} pay off?",
                para="How much did {P} owe from college?",
                tq="When did {P} become debt-free?",
            ),
            T(
                ev="I've been doing a spreadsheet with cash envelopes, and groceries went from six hundred a month to three-fifty.",
                q="How much does {P} spend on groceries now?",
                para="How did {P} cut down food costs?",
            ),
        ],
    ),
    T(
        kw=["horse", "riding", "barn", "mare"],
        facts=[
            T(
                ev="I finally bought Juniper {t}, the chestnut mare I've been leasing at the barn for two years.",
                q="What did {P} buy at the barn?",
                para="Which animal did {P} become the owner of?",
                tq="When did {P} buy Juniper?",
            ),
            T(
                ask="Do you ride competitively?",
                ev="Just local shows. We got a blue ribbon in the trail class last spring, which I'm weirdly proud of.",
                q="Does {P} ride competitively?",
                para="What prize did {P}'s horse earn?",
            ),
        ],
    ),
    T(
        kw=["roller derby", "skating", "league", "bout"],
        facts=[
            T(
                ev="Played my first real bout with the roller derby league {t}, got knocked down about twenty times and loved every second.",
                q="What team does {P} skate for?",
                para="What contact sport has {P} taken up?",
                tq="When did {P} play their first bout?",
            ),
            T(
                ev="My derby name is Lady Mayhem, the team voted on it and I didn't get a say.",
                q="What is {P}'s derby name?",
                para="What do teammates call {P} on the rink?",
            ),
        ],
    ),
    T(
        kw=["Berlin", "transfer", "visa", "relocation"],
        facts=[
            T(
                ev="My company approved the transfer to the Berlin office {t}. I leave in eight weeks and I don't speak a word of German.",
                q="Where is {P} transferring to?",
                para="Which European city is {P} relocating to?",
                tq="When did {P}'s transfer get approved?",
                od="Will {P} need to take language classes?",
            ),
            T(
                ask="Have you found a place to live over there yet?",
                ev="Sort of, a sublet in Kreuzberg above a bike repair shop. Tiny place, but the landlady already invited me for coffee.",
                q="What place did {P} find to live in?",
                para="Which neighborhood will {P} live in abroad?",
            ),
        ],
    ),
    T(
        kw=["engagement", "fiancé", "venue", "ring"],
        facts=[
            T(
                ev="Luis proposed {t} on the ferry home from the island. He hid the ring in a bag of chips and I almost ate it.",
                q="Where did {P} get engaged?",
                para="How did {P}'s partner pop the question?",
                tq="When did Luis propose to {P}?",
            ),
            T(
                ev="We booked an old greenhouse outside town as the venue, it fits ninety guests if nobody brings a plus one.",
                q="What venue did {P} book?",
                para="What location did {P} choose for the big day?",
                od="Is {P} planning a small celebration?",
            ),
        ],
    ),
    T(
        kw=["podcast", "episodes", "microphone", "listeners"],
        facts=[
            T(
                ev="Launched the podcast with my cousin {t}. It's about forgotten local history and we already have three hundred listeners.",
                q="What is {P}'s podcast about?",
                para="What show does {P} host with a relative?",
                tq="When did {P} launch the podcast?",
                od="Would {P} enjoy a career in radio?",
            ),
        ],
    ),
    T(
        kw=["migraines", "headaches", "neurologist", "triggers"],
        facts=[
            T(
                ev="Saw a neurologist about the migraines {t}. She put me on a daily preventive and told me to keep a trigger diary.",
                q="What did the neurologist tell {P} to keep?",
                para="What kind of journal is {P} tracking symptoms in?",
                tq="When did {P} see the neurologist?",
            ),
            T(
                ev="Turns out red wine and skipping breakfast are my two biggest triggers, so goodbye happy hour.",
                q="What are {P}'s biggest triggers?",
                para="What has {P} found sets off the pain?",
                od="Does {P} drink alcohol?",
            ),
        ],
    ),
    T(
        kw=["chickens", "coop", "eggs", "hens"],
        facts=[
            T(
                ev="Picked up four hens from a farm upstate {t}, the kids named them after the Golden Girls.",
                q="How many chickens did {P} get?",
                para="What birds did {P} bring back from the countryside?",
                tq="When did {P} pick up the hens?",
            ),
            T(
                ask="Are they laying yet?",
                ev="Three eggs a day now. Dorothy is the overachiever, we're handing out dozens to the neighbors.",
                q="Are {P}'s hens laying yet?",
                para="Who has {P} been sharing extra food with?",
                od="Does {P} live in the city center?",
            ),
        ],
    ),
    T(
        kw=["road trip", "van", "highway", "coast"],
        facts=[
            T(
                ev="We converted an old delivery van into a camper, bed, tiny sink, string lights, and drove it down the coast {t}.",
                q="What did {P} convert into a camper?",
                para="What vehicle did {P} turn into a home on wheels?",
                tq="When did {P} drive down the coast?",
            ),
            T(
                ev="Thirty-one days on the road and the van only died once, in the middle of Utah, naturally.",
                q="Where did {P}'s van break down?",
                para="In which state did {P} have car trouble?",
            ),
        ],
    ),
    T(
        kw=["teaching", "chemistry", "classroom", "students"],
        facts=[
            T(
                ev="Got my teaching certificate {t}, so this fall I'm officially in charge of four sections of tenth-grade chemistry.",
                q="What did {P} get to start teaching?",
                para="What subject is {P} going to cover with sophomores?",
                tq="When did {P} get the certificate?",
            ),
            T(
                ev="One of my students set his eyebrows on fire with a Bunsen burner. He's fine, I aged ten years.",
                q="What did {P}'s student set on fire?",
                para="What lab accident happened in {P}'s class?",
                od="Does {P} find the job stressful?",
            ),
        ],
    ),
    T(
        kw=["knitting", "yarn", "sweater", "stitches"],
        facts=[
            T(
                ev="Finished knitting my first sweater {t}. One sleeve is longer than the other but I'm wearing it anyway.",
                q="What did {P} finish knitting?",
                para="What garment did {P} make by hand?",
                tq="When did {P} finish the sweater?",
            ),
        ],
    ),
    T(
        kw=["candles", "Etsy", "orders", "shop"],
        facts=[
            T(
                ev="My candle shop on Etsy hit a hundred orders {t}, my whole kitchen smells like fig and cedar.",
                q="What does {P} sell on Etsy?",
                para="What scents fill {P}'s home from the online store?",
                tq="When did {P}'s shop hit a hundred orders?",
            ),
            T(
                ev="The candle money covers my car every month now, which feels unreal for something I started as a joke.",
                q="What does {P} spend the candle profits on?",
                para="How is {P} using the side income?",
                od="Could {P} quit their day job?",
            ),
        ],
    ),
    T(
        kw=["driving", "license", "parallel parking", "instructor"],
        facts=[
            T(
                ev="Passed my driving test on the third try {t}! Thirty-four years old and finally legal behind the wheel.",
                q="How many tries did it take {P} to pass?",
                para="At what age did {P} get a license?",
                tq="When did {P} get their license?",
            ),
            T(
                ask="What was the hardest part?",
                ev="Parallel parking, hands down. My instructor Bev made me practice between two trash cans for a month.",
                q="Who was {P}'s instructor?",
                para="What maneuver gave {P} the most trouble?",
            ),
        ],
    ),
    T(
        kw=["Camino", "pilgrimage", "blisters", "walking"],
        facts=[
            T(
                ev="Got back from the Camino de Santiago {t}, five hundred miles on foot in thirty-three days.",
                q="How many miles did {P} cover on the Camino?",
                para="What long pilgrimage did {P} complete in Spain?",
                tq="When did {P} get back from the Camino?",
            ),
            T(
                ev="My boots gave me the worst blisters of my life, a retired doctor from Brazil at one of the hostels patched them up.",
                q="Who treated {P}'s blisters?",
                para="What went wrong with {P}'s feet along the way?",
                od="Would {P} do another long-distance walk?",
            ),
        ],
    ),
]

FINAL_CATEGORIES = [
    T(
        items=[
            "Tried an Ethiopian place downtown, we ate everything with injera and our hands.",
            "Had Georgian food for the first time, the cheese bread is dangerous.",
            "My coworker took me for Korean barbecue, I smelled like smoke all night.",
            "Went for dim sum with the in-laws, the pork buns disappeared in seconds.",
        ],
        q=["What cuisines has {P} tried?", "Which restaurants has {P} been to lately?"],
        shared=False,
    ),
    T(
        items=[
            "Fixed the leaky kitchen faucet myself, only flooded the floor a little.",
            "Fixed the wobbly stair railing with a couple of long screws.",
            "Patched the hole in the hallway drywall, you can barely see it.",
            "Fixed the garage door opener after watching three videos.",
        ],
        q=["What has {P} fixed around the house?"],
        shared=True,
    ),
    T(
        items=[
            "Saw the new Dune movie in IMAX, my seat was shaking.",
            "Went to a midnight screening of that new horror flick, big regret.",
            "Took my little cousin to the new Pixar movie, she cried at the end.",
        ],
        q=["What movies has {P} seen in theaters?"],
        shared=True,
    ),
    T(
        items=[
            "Drove four hours to see my aunt Marisol, she fed me until I couldn't move.",
            "Spent the weekend at my cousin's farm, I milked a goat!",
            "Flew out to Manila for my grandfather's ninetieth birthday.",
            "Took the train up to my brother's place, his toddler is enormous now.",
        ],
        q=["Which relatives has {P} visited?", "What family members has {P} gone to see?"],
        shared=False,
    ),
    T(
        items=[
            "Started walking a neighbor's greyhound for twenty bucks a pop.",
            "Tutoring a high schooler in algebra on Sunday evenings.",
            "Delivered groceries through an app for a few weekends, so many stairs.",
            "Sold a pile of old clothes on a resale app, made ninety dollars.",
        ],
        q=["What side gigs has {P} done for extra money?"],
        shared=False,
    ),
    T(
        items=[
            "Took a first aid class at the Red Cross, I can do the Heimlich now.",
            "Tried improv at a tiny theater downtown, terrifying and amazing.",
            "Signed up for a wine tasting class, I can now say 'oaky' with confidence.",
            "Did a one-night cocktail class with my roommate, we were useless at work the next day.",
        ],
        q=["What classes has {P} taken?"],
        shared=True,
    ),
    T(
        items=[
            "Went to the lantern festival by the river, thousands of lights on the water.",
            "The chili festival downtown, I tried eleven kinds and regret nothing.",
            "Spent the day at a jazz festival in the park, sunburned but happy.",
        ],
        q=["What festivals has {P} been to?", "Which festivals did {P} attend?"],
        shared=True,
    ),
    T(
        items=[
            "My sister made me a scrapbook of our childhood for my birthday, I bawled.",
            "My boss surprised me with a fancy fountain pen after the big project.",
            "My best friend from college mailed me a box of homemade hot sauce.",
            "Got a pair of noise-cancelling headphones from my partner, bliss.",
        ],
        q=["What presents has {P} been given?"],
        shared=False,
    ),
    T(
        items=[
            "Lost my wallet on the bus, a stranger mailed it back with everything in it!",
            "I lost my favorite sunglasses at the lake, they're somewhere on the bottom now.",
            "Lost my keys for the third time this month, I'm getting one of those trackers.",
            "Dropped my phone in a puddle and it never turned on again.",
        ],
        q=["What has {P} lost?"],
        shared=True,
    ),
    T(
        items=[
            "Dentist found two cavities, no more gummy bears for me.",
            "Had an eye exam, turns out I need reading glasses.",
            "Got my flu shot and a tetanus booster, my arm is so sore.",
            "The dermatologist took off that mole on my back, all clear thankfully.",
        ],
        q=["What medical appointments has {P} had?", "What health checkups has {P} gone to?"],
        shared=False,
    ),
    T(
        items=[
            "Finally saw Hamilton, I know every word of that musical now.",
            "My coworker starred in a community theater musical, she stole the show.",
            "Caught a matinee of Les Mis, sobbed through the whole second act.",
        ],
        q=["What musicals has {P} seen?"],
        shared=True,
    ),
]

# Mechanics as in the FRESH bank (the share of single-hop questions asked in paraphrase, and
# how many call-backs re-use the words of each evidence turn); checked with plain BM25 only.
PARA = 0.2
CALLBACKS = (1, 3)
