"""Topic banks for the LoCoMo-shaped generator in bench/memory_eval.py.

Two disjoint banks: TUNING (topics close to the published LoCoMo examples: adoption,
pottery, camping, ...) and HELDOUT (other topics, other phrasing, other sentence frames).
Never tune `memory/` on HELDOUT.

A topic is a storyline one person keeps talking about across sessions:
  kw      words the chat keeps using about it (distractor chatter is built from them)
  facts   evidence turns said by the person; each with
            ev    the turn ({t} = a relative time word: "yesterday", "last week", ...)
            ask   optional: the friend's question just before (the evidence is the answer)
            q     a question re-using a content word of the evidence (the common LoCoMo case)
            para  a question sharing no content word with the evidence (paraphrase)
            tq    optional "When did ..." question (temporal)
            od    optional open-domain (inference) question, weak overlap
A category (multi-hop) is a question whose answer is spread over several sessions:
  items   evidence turns, one per session
  q       questions; `shared` says whether they share a content word with the items
{P} is the person, {O} the friend.
"""

T = dict  # readability

TUNING_TOPICS = [
    T(kw=["adoption", "adoption agency", "adopting"], facts=[
        T(ev="Researching adoption agencies this week, it's been a dream to have a family and give a loving home to kids who need it.",
          q="What did {P} research?", para="What is {P} looking into to start a family?", tq="When did {P} start researching agencies?"),
        T(ev="I passed the adoption agency interviews {t}! I'm so excited and thankful, this is a big step towards my goal.",
          q="What interviews did {P} pass?", para="What hurdle did {P} clear on the path to parenthood?", tq="When did {P} pass the adoption interviews?"),
        T(ask="Anything you're excited for in the adoption process?", ev="Honestly just making a family for kids who need one. It'll be tough as a single parent but I'm up for it!",
          q="What is {P} excited about in the adoption process?", para="What is {P}'s relationship status?", od="Would {P} be a single parent?"),
    ]),
    T(kw=["pottery", "clay", "pottery class"], facts=[
        T(ev="I signed up for a pottery class {t}. Getting my hands in the clay is so calming, it's like therapy.",
          q="What class did {P} sign up for?", para="What new creative hobby did {P} take up?", tq="When did {P} sign up for a pottery class?"),
        T(ask="Oh cool, what did you make in pottery class?", ev="A little bowl with a dog face on it, the kids fought over who gets to keep it.",
          q="What did {P} make in pottery class?", para="What did {P}'s kids fight over?"),
    ]),
    T(kw=["painting", "paint", "canvas", "art"], facts=[
        T(ev="I painted that lake sunrise {t}, it's one of my favorites.",
          q="What did {P} paint?", para="What scene of dawn over water did {P} create?", tq="When did {P} paint a sunrise?"),
        T(ev="My painting got picked for the art show at the community center, I can't believe it!",
          q="Which art show was {P}'s painting picked for?", para="Where will {P}'s work be exhibited?", od="Would {P} consider art a career?"),
        T(ask="What got you into painting in the first place?", ev="My grandma used to sit me down with her watercolors every summer, it stuck with me.",
          q="Who got {P} into painting?", para="How did {P}'s grandmother influence them?"),
    ]),
    T(kw=["camping", "camp", "tent", "campfire"], facts=[
        T(ev="We went camping in the mountains {t}, the kids roasted marshmallows and told stories around the campfire.",
          q="Where did {P} go camping?", para="What did the kids do on {P}'s mountain trip?", tq="When did {P} go camping in the mountains?"),
        T(ask="Did you see anything cool out there?", ev="We saw the Perseid meteor shower, lying on a blanket with the kids, it was magical.",
          q="What did {P} see while camping?", para="What sky event did {P} watch with family?", tq="When did {P} watch the meteor shower?"),
    ]),
    T(kw=["race", "running", "run", "charity"], facts=[
        T(ev="I ran a charity race for mental health {t}, it felt amazing to be part of something bigger.",
          q="What cause was {P}'s charity race for?", para="How did {P} support mental health awareness?", tq="When did {P} run a charity race?"),
        T(ev="Running has been my way to destress, I do five miles every morning before the kids wake up.",
          q="How does {P} destress?", para="How far does {P} go before the kids are up?", od="Is {P} likely to sign up for a marathon?"),
    ]),
    T(kw=["support group", "LGBTQ", "transgender", "community"], facts=[
        T(ev="I went to a LGBTQ support group {t} and it was so powerful, the stories were so inspiring.",
          q="What group did {P} go to?", para="Where did {P} hear inspiring personal stories?", tq="When did {P} go to the LGBTQ support group?"),
        T(ev="As a transgender woman I know how much acceptance matters, that's why I want to help others.",
          q="What is {P}'s identity?", para="Why does {P} care so much about acceptance?"),
        T(ev="Marched in the pride parade {t} with my mentorship group, the whole street was a rainbow.",
          q="Who did {P} march in the pride parade with?", para="How did {P} celebrate pride?", tq="When did {P} go to a pride parade?"),
    ]),
    T(kw=["counseling", "career", "mental health", "school"], facts=[
        T(ev="I'm keen on counseling and working in mental health, I want to support people going through what I did.",
          q="What career does {P} want to pursue?", para="What field would {P} likely study?", od="Would {P} pursue a degree in psychology?"),
        T(ev="I gave a talk at a school event {t} about my journey, the students asked such great questions.",
          q="Where did {P} give a talk?", para="Who asked {P} great questions?", tq="When did {P} speak at a school?"),
    ]),
    T(kw=["kids", "family", "son", "daughter"], facts=[
        T(ev="My son had a bike accident {t}, he's okay now but it scared us all half to death.",
          q="What happened to {P}'s son?", para="Why was {P}'s family scared?", tq="When did {P}'s son have an accident?"),
        T(ev="The kids are obsessed with dinosaurs right now, we spent the whole day at the natural history museum.",
          q="What are {P}'s kids obsessed with?", para="Where did {P} spend a whole day?", tq="When did {P} take the kids to the museum?"),
    ]),
    T(kw=["music", "concert", "guitar", "band"], facts=[
        T(ev="Saw Matt Patterson live {t}, his voice gave me chills the entire show.",
          q="Who did {P} see live?", para="Which singer gave {P} chills?", tq="When did {P} see Matt Patterson?"),
        T(ev="I've been playing acoustic guitar since I was a teen, it's how I process my feelings.",
          q="What instrument does {P} play?", para="How does {P} process feelings?"),
    ]),
    T(kw=["beach", "swimming", "ocean"], facts=[
        T(ev="Took the kids to the beach {t}, we built a huge sandcastle and swam until sunset.",
          q="What did {P} build at the beach?", para="What did {P} do with the children until sunset?", tq="When did {P} go to the beach?"),
    ]),
    T(kw=["pets", "dog", "cat", "guinea pig"], facts=[
        T(ev="We got a puppy {t}, his name is Oliver and he already chewed through my shoes.",
          q="What is the name of {P}'s puppy?", para="Who chewed through {P}'s shoes?", tq="When did {P} get a puppy?"),
        T(ask="Do you have any pets?", ev="Yup, Oscar, my guinea pig. He squeaks every time I open the fridge.",
          q="What pet does {P} have?", para="Who squeaks when the fridge opens?"),
    ]),
    T(kw=["move", "moved", "home country", "friends"], facts=[
        T(ev="I've known these friends for 4 years, since I moved from my home country, Sweden.",
          q="Where did {P} move from?", para="Which nation is {P} originally from?", od="Does {P} speak Swedish?"),
        T(ev="Just got back from visiting my grandma in Sweden {t}, she gave me her old necklace.",
          q="What did {P}'s grandma give them?", para="What heirloom did {P} receive?", tq="When did {P} visit grandma?"),
    ]),
    T(kw=["book", "reading", "library"], facts=[
        T(ev="I'm reading 'Becoming Nicole' right now, it's such a moving story of a family's journey.",
          q="What book is {P} reading?", para="Which memoir moved {P}?"),
        T(ev="Charlotte's Web was my favorite book as a kid, I read it to my kids {t}.",
          q="What was {P}'s favorite book as a kid?", para="Which children's classic does {P} love?", tq="When did {P} read Charlotte's Web to the kids?"),
    ]),
]

TUNING_CATEGORIES = [
    T(items=["Signed up for a pottery class, the clay is so calming.", "We went camping by the river, the kids loved it.",
             "Finished a painting of the lake at dawn.", "Took the kids swimming at the community pool.",
             "Started going to yoga on Tuesdays, so good for my back."],
      q=["What activities does {P} partake in?", "What hobbies does {P} have?"], shared=False),
    T(items=["We camped at the beach, fell asleep to the waves.", "Camped in the mountains, so chilly at night!",
             "Camping in the forest was the best, so quiet.", "We camped by the lake and went fishing at dawn."],
      q=["Where has {P} camped?"], shared=True),
    T(items=["My kids are crazy about dinosaurs lately.", "The kids love nature, they collect leaves and rocks on every walk.",
             "The kids have been begging for a trampoline, they love jumping."],
      q=["What do {P}'s kids like?"], shared=True),
    T(items=["I read 'Nothing is Impossible' on the flight, so motivating.", "Finished reading 'Charlotte's Web' again, still makes me cry.",
             "Reading 'The Alchemist' with my book club this month."],
      q=["What books has {P} read?"], shared=True),
    T(items=["Oliver the dog stole a sandwich off the table again.", "Luna the cat sleeps on my keyboard every morning.",
             "Bailey learned to fetch the newspaper!"],
      q=["What are {P}'s pets' names?", "What pets does {P} have?"], shared=False),
    T(items=["I play the clarinet in a community band.", "Been practicing violin every night this month.",
             "Picked up the ukulele, my fingers are sore."],
      q=["What instruments does {P} play?"], shared=False),
    T(items=["Went to the beach with the kids, perfect weather.", "Another beach day, we found so many shells.",
             "Sunset walk on the beach with my husband."],
      q=["How many times has {P} gone to the beach?"], shared=True),
    T(items=["I joined an activist group that fights for trans rights.", "Went to a pride parade downtown, so much love.",
             "Volunteered at the LGBTQ youth center, mentoring is so rewarding.", "My art was in an LGBTQ art show!"],
      q=["In what ways is {P} participating in the LGBTQ community?", "What LGBTQ events has {P} taken part in?"], shared=True),
    T(items=["Painted a sunset over the lake this morning.", "I painted a horse, took me weeks.",
             "My latest painting is a field of sunflowers."],
      q=["What has {P} painted?", "What subjects has {P} painted?"], shared=True),
]

HELDOUT_TOPICS = [
    T(kw=["woodworking", "workshop", "wood"], facts=[
        T(ev="Finished building a walnut dining table in my garage workshop {t}, sanding took forever.",
          q="What did {P} build in the workshop?", para="What furniture did {P} make by hand?", tq="When did {P} finish the walnut table?"),
        T(ask="Where did you learn woodworking?", ev="My uncle Ray taught me, he had a shed full of chisels and I'd hang out there every summer.",
          q="Who taught {P} woodworking?", para="Which relative passed on a craft to {P}?"),
    ]),
    T(kw=["sailing", "boat", "sail"], facts=[
        T(ev="Took the sailboat out on the bay {t}, the wind flipped us and we had to swim back, hilarious.",
          q="What happened when {P} took the sailboat out?", para="Why did {P} end up in the water?", tq="When did {P} capsize?"),
        T(ev="I'm saving up for my own boat, a little 22-foot sloop, I check the listings every night.",
          q="What kind of boat is {P} saving for?", para="What is {P} checking listings for?", od="Would {P} enjoy living near the coast?"),
    ]),
    T(kw=["bakery", "bread", "business"], facts=[
        T(ev="Signed the lease on a storefront {t}, my bakery is finally becoming real!",
          q="What did {P} sign a lease for?", para="What business milestone did {P} reach?", tq="When did {P} sign the bakery lease?"),
        T(ev="Sourdough sold out in two hours at the farmers market, people were lining up before I opened.",
          q="What sold out at the farmers market?", para="Why were people lining up for {P}?", od="Is {P}'s baking business likely to succeed?"),
    ]),
    T(kw=["firefighter", "fire station", "volunteer"], facts=[
        T(ev="Passed the volunteer firefighter fitness test {t}, carried a 50-pound hose up six flights!",
          q="What test did {P} pass?", para="What did {P} carry up six flights?", tq="When did {P} pass the firefighter test?"),
        T(ask="What was your first call like?", ev="A kitchen grease fire, nobody hurt thankfully, my hands were shaking the whole time.",
          q="What was {P}'s first call as a firefighter?", para="Why were {P}'s hands shaking?"),
    ]),
    T(kw=["French", "language", "lessons"], facts=[
        T(ev="Started French lessons with a tutor from Lyon {t}, my accent is embarrassing.",
          q="What lessons did {P} start?", para="Where is {P}'s tutor from?", tq="When did {P} start French lessons?"),
        T(ev="Ordered dinner entirely in French at the bistro downtown, the waiter actually understood me!",
          q="Where did {P} order dinner in French?", para="What small victory did {P} have at a restaurant?"),
    ]),
    T(kw=["photography", "camera", "photos"], facts=[
        T(ev="One of my photos of the old lighthouse won the county fair contest {t}!",
          q="Which photo of {P}'s won a contest?", para="What award did {P} get at the fair?", tq="When did {P} win the photo contest?"),
        T(ev="Bought a used film camera, a Pentax K1000, shooting black and white now.",
          q="What camera did {P} buy?", para="What vintage gear did {P} pick up?"),
    ]),
    T(kw=["chess", "tournament", "club"], facts=[
        T(ev="Placed third in the city chess tournament {t}, lost the semifinal on time.",
          q="How did {P} do in the chess tournament?", para="What ranking did {P} earn in the city competition?", tq="When did {P} play in the chess tournament?"),
    ]),
    T(kw=["coaching", "basketball", "team", "practice"], facts=[
        T(ev="My under-12 basketball team won their first game {t}, the girls were screaming!",
          q="What team does {P} coach?", para="Whose first win did {P} celebrate?", tq="When did {P}'s team win their first game?"),
        T(ask="How did you end up coaching?", ev="Nobody else signed up and my niece was on the roster, so here I am with a whistle.",
          q="Why did {P} start coaching?", para="Who was on the roster that made {P} step up?"),
    ]),
    T(kw=["car", "restoration", "Mustang", "engine"], facts=[
        T(ev="Got the engine of the '67 Mustang running {t}, first time in twenty years!",
          q="What car is {P} restoring?", para="What old vehicle did {P} bring back to life?", tq="When did {P} get the Mustang engine running?"),
    ]),
    T(kw=["novel", "writing", "manuscript"], facts=[
        T(ev="Sent my manuscript to three literary agents {t}, now the waiting game.",
          q="Who did {P} send the manuscript to?", para="What is {P} waiting to hear back about?", tq="When did {P} send out the manuscript?"),
        T(ev="The novel is about a lighthouse keeper who finds letters from 1912, I'm on chapter twenty.",
          q="What is {P}'s novel about?", para="What story is {P} working on?", od="Does {P} like historical fiction?"),
    ]),
    T(kw=["health", "doctor", "knee", "surgery"], facts=[
        T(ev="Had knee surgery {t}, the doctor says six weeks of physical therapy.",
          q="What surgery did {P} have?", para="Why does {P} need six weeks of therapy?", tq="When did {P} have knee surgery?"),
    ]),
    T(kw=["garden", "beekeeping", "bees", "honey"], facts=[
        T(ev="Harvested our first honey from the backyard hives {t}, almost twenty jars!",
          q="What did {P} harvest from the hives?", para="How many jars did {P} fill?", tq="When did {P} harvest honey?"),
        T(ask="Aren't you scared of getting stung?", ev="Got stung twice the first month, now I just move slowly and they ignore me.",
          q="How many times did {P} get stung?", para="How does {P} avoid trouble with the insects?"),
    ]),
    T(kw=["wedding", "sister", "family"], facts=[
        T(ev="My sister's wedding was {t}, I gave a speech and everyone cried, including the DJ.",
          q="What did {P} do at the sister's wedding?", para="Who cried during {P}'s toast?", tq="When was {P}'s sister's wedding?"),
    ]),
]

HELDOUT_CATEGORIES = [
    T(items=["Went bouldering after work, my forearms are toast.", "Tried archery at the county park, hit the target twice.",
             "Took a salsa class with my neighbor, so many stepped-on toes.", "Spent Sunday kayaking on the reservoir."],
      q=["What sports has {P} tried?", "What does {P} do to stay active?"], shared=False),
    T(items=["Cooked a Thai green curry from scratch tonight.", "Made homemade ramen, the broth took eight hours.",
             "Tried cooking paella for the first time, the rice stuck a bit.", "Cooked my mom's lasagna recipe for friends."],
      q=["What dishes has {P} cooked?"], shared=True),
    T(items=["Visited Lisbon, the trams are adorable.", "Spent four days in Kyoto, the temples were unreal.",
             "Weekend in Montreal, ate way too many bagels."],
      q=["Which cities has {P} visited?", "Where has {P} traveled?"], shared=False),
    T(items=["Watched the new season of The Bear, so stressful.", "Finally watched Severance, what a show.",
             "Binge-watched The Great British Bake Off again."],
      q=["What shows has {P} watched?"], shared=True),
    T(items=["My nephew Theo started kindergarten, he cried at the gate.", "My niece Ava lost her first tooth at my place.",
             "My nephew Sam won the spelling bee!"],
      q=["What has happened with {P}'s nieces and nephews?"], shared=True),
    T(items=["Volunteered at the soup kitchen on Thanksgiving.", "Organized a coat drive at work, collected 80 coats.",
             "Helped build a house with Habitat for Humanity on Saturday."],
      q=["How has {P} given back to the community?", "What charitable things has {P} done?"], shared=False),
    T(items=["Bought a vintage record player at the flea market.", "Found a 1950s typewriter at a yard sale for ten bucks.",
             "Scored an old brass telescope at an estate sale."],
      q=["What vintage items has {P} found?", "What has {P} bought secondhand?"], shared=False),
    T(items=["Planted tomatoes and basil in the raised beds.", "The garden pumpkins are bigger than my head.",
             "Planted a lemon tree in the garden, fingers crossed."],
      q=["What has {P} planted in the garden?"], shared=True),
]
