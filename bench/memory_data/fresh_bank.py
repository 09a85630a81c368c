"""FRESH bank for bench/memory_eval.py: the final check, never tuned on.

Written after the tuning and held-out banks had both been looked at while changing
`memory/`, so that one set of chats stays unseen by the search's design. Same structure as
banks.py (see there for the fields), but its own storylines, its own small talk, reactions,
call-backs, retellings and chatter frames, its own time words, and question phrasings
modelled on the published LoCoMo questions ("What did Caroline research?", "How long has
Caroline had her current group of friends for?", "What fields would Caroline be likely to
pursue in her education?", "What is Caroline's relationship status?", "What books has
Melanie read?", ...). Storylines follow the kinds of lives in LoCoMo's other chats (a
gamer, a would-be politician, a screenwriter, a dance teacher who lost a job, ...), none
of them a topic of the other two banks.

Do NOT use this bank to tune `memory/`: run it once before and once after a change.
"""

T = dict  # readability

NAMES = ["Joanna", "Nate", "Jolene", "Deborah", "Calvin", "Dave", "Audrey", "Andrew", "Evan", "Sam",
         "Tasha", "James", "Gina", "Jon", "Maria", "John", "Tim", "Priya", "Lena", "Marcus"]
NICK = {"Joanna": "Jo", "Deborah": "Deb", "Andrew": "Andy", "James": "Jamie", "Marcus": "Marc", "Samantha": "Sam"}
TIME_WORDS = ["last night", "on Sunday", "earlier this week", "last Thursday", "over the weekend",
              "a couple of days ago", "this past weekend", "last Monday", "two days ago", "a week ago"]

FILLER = [
    "Hiya {O}! It's been ages, how's everything on your end?", "Morning {O}! Finally a quiet moment to catch up.",
    "Ugh, Mondays. Coffee is the only thing keeping me upright.", "Ha, you crack me up, {O}.",
    "I hear you. Some weeks just drag on forever.", "That's huge, {O}! You earned it.",
    "Sending you a big hug, {O}. You've got this.", "Honestly same, I've been running on four hours of sleep.",
    "What a cute photo! Who took it?", "I can't wait to hear how it turns out!",
    "Oh man, that sounds exhausting. Did you get some rest after?", "You're such a good friend, {O}, seriously.",
    "Nothing much here, just the usual chaos.", "We ordered pizza and stayed in, it was perfect.",
    "My back has been killing me, I need a new mattress.", "It rained all weekend so we just played board games.",
    "Haha, classic {O}.", "Keep me posted, okay?", "I'm rooting for you, {O}!",
    "Right? Time flies, it's already almost summer.", "That's the spirit!", "How's the family doing, {O}?",
    "We should grab lunch soon, it's been too long.", "I've been binge-listening to podcasts on my commute.",
    "Sorry for the late reply, {O}, my phone died.", "That made my day, thanks for sharing.",
    "Honestly I just need a vacation.", "Can't complain, things are steady.", "No way! When did that happen?",
    "Lol, I would have panicked.", "You deserve a break, {O}.", "Miss you! Let's talk more this weekend.",
    "Busy busy, but the good kind of busy.", "Aw, thanks {O}, that means the world.",
]
SHARE = ["", "", "", "", " [shared image: a photo of a city street at night]", " [shared image: a photo of a birthday cake]",
         " [shared image: a photo of a cat in a box]", " [shared image: a photo of a mountain trail]"]
REACT = ["Whoa, {w}? Nice one, {P}!", "{P}! {w}, really? I had no idea.",
         "Ha, {w}, that's so you, {P}.", "Okay {w} sounds incredible, {P}. Pics please!",
         "Love the {w} update, {P}. How's everyone taking it?", "That's great, {P}, I'm really glad.",
         "Oh wow {P}, how did that go?", "Good for you, {P}! Was it scary?"]
TAILS = [" Still buzzing from it, to be honest.", " My partner thinks I'm crazy, ha.", " Anyway, enough about me!",
         " Took a lot of nerve but I'm glad I did it.", " One of those days I'll remember for a long time.",
         " Not bad for a Tuesday, right?", " Feels like things are finally clicking.", " Can't wait to tell my parents."]
CALLBACK = ["Still can't believe the {w} thing, {P}.", "Random, but {w} came up at work and I thought of you, {P}.",
            "You and your {w}, {P}, ha!", "Did I tell you my brother is into {w} now, {O}?",
            "Every time I hear {w} I think of you, {P}.", "Okay but the {w} story still cracks me up, {P}."]
RETELL = ["My roommate asked about the {w} again, and of course I ended up rambling about {w2} too.",
          "Funny how the {w} keeps coming up, even my dentist knew about {w2}, small town life.",
          "I wrote about the {w} in my journal last night, and the {w2}, it helps me sort my head out.",
          "At brunch we got onto {w} and then {w2}, my friends must be sick of me by now."]
CHATTER = (["Hey {P}, how's the {kw} stuff these days?", "{P}, any updates on the {kw}?",
            "My mom saw your {kw} post, {P}, she loved it!", "Still doing {kw}, {P}? You seemed so into it."],
           ["The {kw} has been taking up all my free time, ha.", "Quiet week on the {kw} side, honestly.",
            "I was up late again thinking about {kw}.", "Thanks for remembering the {kw}, {O}! It's a lot but good."])

FRESH_TOPICS = [
    T(kw=["gaming", "tournament", "video games", "controller"], facts=[
        T(ev="Won my first Street Fighter tournament {t}, took home five hundred bucks and a trophy!",
          q="What tournament did {P} win?", para="How did {P} earn prize money recently?", tq="When did {P} win the Street Fighter tournament?"),
        T(ask="How long have you been playing competitively?", ev="About six years now, I started right after college when a buddy dragged me to a local meetup.",
          q="How long has {P} been playing competitively?", para="When did {P}'s hobby turn serious?", od="Would {P} consider streaming as a job?"),
    ]),
    T(kw=["turtles", "tank", "reptiles", "pets"], facts=[
        T(ev="Bought a bigger tank for my turtles {t}, Shelly and Tank finally have room to swim around.",
          q="What did {P} buy for the turtles?", para="What are the names of {P}'s shelled companions?", tq="When did {P} buy a new tank?"),
        T(ask="Why turtles of all animals?", ev="I'm allergic to fur, so reptiles were the only option, and honestly they're chill roommates.",
          q="Why does {P} have turtles instead of a dog?", para="What allergy does {P} have?"),
    ]),
    T(kw=["screenplay", "writing", "film", "script"], facts=[
        T(ev="My screenplay made it to the finals of the Austin film festival contest {t}!",
          q="What did {P}'s screenplay make it to?", para="What good news did {P} get from Texas?", tq="When did {P}'s screenplay reach the finals?"),
        T(ev="The script is a dark comedy about two sisters who inherit a haunted motel in Nevada.",
          q="What is {P}'s script about?", para="What genre does {P} write?", od="What kind of movies would {P} likely enjoy?"),
    ]),
    T(kw=["city council", "campaign", "election", "politics"], facts=[
        T(ev="I officially filed to run for city council {t}, my platform is affordable housing and better schools.",
          q="What is {P} running for?", para="What local office does {P} want to win?", tq="When did {P} file to run?",
          od="What might {P}'s political leaning be?"),
        T(ev="Knocked on two hundred doors this weekend, my feet are wrecked but people were so kind.",
          q="How many doors did {P} knock on?", para="How has {P} been canvassing voters?"),
    ]),
    T(kw=["dance studio", "dance", "studio", "job"], facts=[
        T(ev="I got laid off from the bank {t}, so I'm finally going to open the dance studio I always dreamed about.",
          q="What job did {P} lose?", para="Why did {P} decide to start a business?", tq="When did {P} get laid off?"),
        T(ask="What kind of dance will you teach?", ev="Mostly contemporary and hip hop for teens, that's what I competed in growing up.",
          q="What styles of dance will {P} teach?", para="What did {P} compete in as a kid?", od="Was {P} a competitive athlete as a teenager?"),
    ]),
    T(kw=["engineering", "internship", "degree", "exams"], facts=[
        T(ev="I just finished my internship at a solar energy company, I designed wiring for rooftop panels.",
          q="Where did {P} do an internship?", para="What renewable power work has {P} done?",
          od="What fields would {P} be likely to pursue after graduating?"),
        T(ev="Passed my thermodynamics exam {t}, I studied every night for a month!",
          q="What exam did {P} pass?", para="Which tough course did {P} get through?", tq="When did {P} pass thermodynamics?"),
    ]),
    T(kw=["friends", "moved", "hometown", "neighborhood"], facts=[
        T(ev="I've had this group of friends for about seven years, since we all lived on the same floor in the dorms.",
          q="How long has {P} had their current group of friends?", para="Where did {P} meet the people closest to them?"),
        T(ev="I moved here from Ohio three years ago, I still miss the thunderstorms back home.",
          q="Where did {P} move from three years ago?", para="Which state is {P} originally from?", od="Does {P} miss the Midwest?"),
    ]),
    T(kw=["boyfriend", "dating", "relationship", "single"], facts=[
        T(ev="Broke up with Mark {t}, it was mutual, we just wanted different things.",
          q="Who did {P} break up with?", para="What is {P}'s relationship status?", tq="When did {P} and Mark split?"),
        T(ask="Are you going to try the apps again?", ev="Nope, taking a break from dating for a while, I want to focus on myself.",
          q="Is {P} dating anyone?", para="What is {P} prioritizing this year?"),
    ]),
    T(kw=["album", "recording", "songs", "studio"], facts=[
        T(ev="We finished recording the album in a tiny studio in Tokyo {t}, eleven songs in nine days.",
          q="Where did {P} record the album?", para="What did {P}'s band do in Japan?", tq="When did {P} finish recording in Tokyo?"),
        T(ev="I write all the lyrics on the train, my notebook is full of half-finished verses.",
          q="Where does {P} write lyrics?", para="Where does {P} get creative during the commute?"),
    ]),
    T(kw=["health", "doctor", "diet", "blood pressure"], facts=[
        T(ev="The doctor said my blood pressure is way too high {t}, so I cut out soda and started walking at lunch.",
          q="What did {P} cut out of their diet?", para="Why did {P} change their eating habits?", tq="When did {P} see the doctor about blood pressure?"),
        T(ev="Down fifteen pounds since spring, my jeans are falling off!",
          q="How many pounds has {P} lost?", para="How has {P}'s weight changed?", od="Is {P} likely to join a gym?"),
    ]),
    T(kw=["grandpa", "funeral", "family", "grief"], facts=[
        T(ev="My grandpa passed away {t}, he taught me how to fish and how to whistle.",
          q="What did {P}'s grandpa teach them?", para="Who in {P}'s family died?", tq="When did {P}'s grandfather die?"),
        T(ev="We scattered his ashes at the lake cabin where he proposed to grandma in 1961.",
          q="Where did {P}'s family scatter the ashes?", para="Where did {P}'s grandparents get engaged?"),
    ]),
    T(kw=["cosplay", "convention", "costume", "comics"], facts=[
        T(ev="Spent three months sewing a Wonder Woman costume for the comic convention {t}, people kept asking for photos!",
          q="What costume did {P} make?", para="Which superhero did {P} dress as?", tq="When did {P} go to the comic convention?"),
    ]),
    T(kw=["workshop", "crafts", "kids"], facts=[
        T(ev="Took the kids to a clay workshop {t}, we made little pinch pots and a lopsided vase.",
          q="What did {P} and the kids make during the clay workshop?", para="What crafts did {P}'s children create?", tq="When did {P} take the kids to the workshop?"),
    ]),
    T(kw=["scuba", "diving", "certification", "ocean"], facts=[
        T(ev="Got my scuba certification {t}, we saw a sea turtle on the last dive!",
          q="What certification did {P} get?", para="What did {P} see underwater?", tq="When did {P} get certified?"),
        T(ev="Next summer I want to dive the Great Barrier Reef, I've been saving a little every paycheck.",
          q="Where does {P} want to dive?", para="What trip to Australia is {P} saving for?", od="Would {P} enjoy a beach vacation?"),
    ]),
]

FRESH_CATEGORIES = [
    T(items=["Played poker with the guys until 2am, lost twenty bucks.", "Played Monopoly with my cousin, he flipped the board when he lost.",
             "Played Scrabble at my aunt's, I got a triple word score with 'quartz'.", "We played charades at the reunion, I laughed till I cried."],
      q=["What games has {P} played?"], shared=True),
    T(items=["Baked brownies for the office, gone in ten minutes.", "Baked a cheesecake for my mom's birthday, it cracked but tasted great.",
             "First attempt at an apple pie, the crust was perfect.", "Tried making macarons, total disaster, ha."],
      q=["What desserts has {P} made?", "What has {P} baked?"], shared=True),
    T(items=["Saw Taylor Swift at the stadium, best night ever.", "Went to a Coldplay concert with my sister, the lights were unreal.",
             "Caught Kendrick Lamar at the festival, he was electric."],
      q=["What musical artists has {P} seen?", "Which concerts has {P} been to?"], shared=True),
    T(items=["Practicing Spanish on Duolingo every morning.", "Learning Japanese in a class at the library, the characters are hard.",
             "My coworker is teaching me some Portuguese at lunch."],
      q=["What languages is {P} learning?"], shared=True),
    T(items=["Hiked up to the waterfall trail behind the reservoir.", "Did a sunrise hike on Mount Tam, so foggy.",
             "Hiked the canyon loop with my dad, twelve miles!"],
      q=["Where has {P} hiked?"], shared=True),
    T(items=["Took a bubble bath with candles and a face mask.", "Did a guided meditation before bed, slept like a baby.",
             "Went for a long drive with the windows down and old music.", "Spent the afternoon doing a jigsaw puzzle."],
      q=["What does {P} do to relax?", "How does {P} unwind?"], shared=False),
    T(items=["Traveled to Iceland for a week, saw the northern lights.", "Two weeks backpacking in Peru, Machu Picchu was a dream.",
             "Quick trip to Morocco, the markets in Marrakech were wild."],
      q=["What countries has {P} traveled to?"], shared=False),
    T(items=["Bought a standing desk, my back already thanks me.", "Finally bought a new bike, a blue road bike.",
             "I bought a record player and three vinyls, old school!", "Bought a fancy espresso machine, no more cafe runs."],
      q=["What items has {P} bought?"], shared=True),
    T(items=["Sprained my ankle playing pickup soccer.", "Broke my wrist falling off a skateboard, so embarrassing.",
             "Pulled a muscle in my shoulder at the gym."],
      q=["What injuries has {P} had?"], shared=False),
]

# Calibration (plain BM25 near LoCoMo's ~63% overall / ~33% multi-session recall@10, checked
# with plain BM25 only): share of single-hop questions asked in paraphrase, and how many
# call-backs re-use the words of each evidence turn.
PARA = 0.2
CALLBACKS = (1, 3)
