"""Generate the pico demo dataset ``datasets/demo/intents.csv``.

A synthetic English chatbot intent dataset with planted, *known* label noise:
about 3,000 utterances over 32 intents in 5 domains, written from hand-made
templates and slot values. Every row carries the given (possibly wrong) label and
the true one, so label-cleaning tools can be scored against the truth.

Regenerate (deterministic; standard library only)::

    python datasets/demo/make_demo.py                  # writes datasets/demo/intents.csv
    python datasets/demo/make_demo.py --output /tmp/x.csv

Columns: ``text, label, domain, clean_label``. ``label`` is the given (noisy)
label, ``clean_label`` the truth and ``domain`` the domain of ``label``.

The randomness comes from one ``random.Random(SEED)``: its algorithms (Mersenne
Twister, ``random``, ``choice``, ``shuffle``) are stable across Python 3
releases, so the file is byte-for-byte reproducible. Released under CC0 1.0
(public domain), written for this project.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
from pathlib import Path

SEED = 20240611
OUTPUT = Path(__file__).resolve().parent / "intents.csv"
COLUMNS = ("text", "label", "domain", "clean_label")

# Share of rows (before the conflicting duplicates are added) per kind of noise.
SIBLING_RATE = 0.047  # within-domain confusion between sibling intents
GENERIC_RATE = 0.018  # specific intent labeled as the domain's generic intent
UNIFORM_RATE = 0.010  # any other intent
N_CONFLICTS = 10  # texts that appear twice, once with a wrong (sibling) label
TYPO_RATE = 0.03
SMALL = 10  # intents with fewer rows than this are never flipped from or to

# --------------------------------------------------------------------------- slot values

SLOTS: dict[str, list[str]] = {
    "amount": [
        "$50", "50 dollars", "£20", "100 euros", "$1,200", "300 bucks", "twenty dollars",
        "$75.50", "500", "€40", "2000 dollars", "$15", "$250", "a hundred pounds", "$9.99",
        "40 quid", "$3000", "60 euros",
    ],
    "payee": [
        "my mom", "my sister", "John", "Sarah", "my landlord", "my roommate", "Alex",
        "my savings", "my brother", "Maria", "my dad", "the plumber", "my business account",
        "Priya", "Tom", "my friend Kevin", "Chen", "my daughter", "Ahmed", "my babysitter",
    ],
    "account": [
        "checking", "savings", "joint account", "business account", "credit card",
        "main account", "current account", "checking account", "savings account",
    ],
    "when": [
        "yesterday", "on Monday", "last week", "this morning", "two days ago", "on Friday",
        "an hour ago", "last night", "3 days ago", "earlier today", "on the 3rd",
        "over a week ago",
    ],
    "card": [
        "card", "debit card", "credit card", "visa", "new card", "bank card", "mastercard",
        "replacement card", "contactless card",
    ],
    "place": [
        "at the mall", "in a taxi", "at the gym", "on the bus", "somewhere downtown",
        "at a restaurant", "at the airport", "in the parking lot", "at work",
    ],
    "city": [
        "London", "New York", "Paris", "Tokyo", "Chicago", "Berlin", "Madrid", "Toronto",
        "Sydney", "Rome", "Boston", "Lisbon", "Dublin", "Denver", "Miami", "Seattle",
        "Amsterdam", "Mexico City", "Singapore", "Austin", "LA", "Vegas", "Athens",
    ],
    "date": [
        "tomorrow", "next Friday", "on the 12th", "June 3rd", "this weekend", "next month",
        "on Monday", "July 25", "next Tuesday", "Christmas eve", "in two weeks", "march 14",
        "tonight", "the 1st of May", "Thursday morning", "next weekend",
    ],
    "flight": [
        "UA 921", "BA117", "flight 302", "DL 455", "AA 88", "my flight", "LH 400",
        "flight QF1", "my connecting flight", "my return flight", "the 6pm flight",
        "my flight to {city}",
    ],
    "airline": [
        "United", "Delta", "British Airways", "Lufthansa", "Ryanair", "easyJet",
        "American", "Air France", "KLM", "Southwest", "you guys",
    ],
    "bag": [
        "a carry-on", "two checked bags", "a suitcase", "my golf clubs", "a backpack",
        "a stroller", "skis", "a guitar", "a 25kg bag", "an extra bag", "a surfboard",
        "a laptop bag", "a car seat", "my dog",
    ],
    "nights": [
        "two nights", "3 nights", "a week", "one night", "the weekend", "five nights",
        "4 nights", "ten days",
    ],
    "hotel": [
        "a hotel", "a room", "a cheap hotel", "a hotel room", "somewhere to stay",
        "a double room", "a hotel near the airport", "a room with a view",
        "a pet friendly hotel", "a suite",
    ],
    "room": [
        "living room", "kitchen", "bedroom", "bathroom", "office", "hallway", "garage",
        "porch", "kids room", "dining room", "basement", "upstairs", "downstairs", "den",
    ],
    "temp": [
        "68", "72 degrees", "21 degrees", "70", "19", "75 degrees", "22 celsius",
        "65 fahrenheit", "20", "71", "23 degrees", "18 degrees", "69",
    ],
    "artist": [
        "Taylor Swift", "the Beatles", "some jazz", "lofi beats", "Beyonce", "Daft Punk",
        "classical music", "my workout playlist", "Fleetwood Mac", "Drake",
        "something relaxing", "Miles Davis", "90s hip hop", "Adele", "rock music",
        "the new Kendrick album", "my discover weekly", "Bad Bunny", "country music",
        "podcasts", "Queen", "chill vibes",
    ],
    "time": [
        "6am", "7:30", "6:45 am", "noon", "5 in the morning", "8:15", "10 pm",
        "7 tomorrow morning", "half past six", "9am on saturday", "5:30", "6:15",
        "quarter to seven", "7am on weekdays",
    ],
    "food": [
        "a large pepperoni pizza", "two chicken burritos", "pad thai", "a cheeseburger and fries",
        "sushi for two", "a veggie burger", "chicken tikka masala", "a caesar salad",
        "three tacos", "ramen", "a margherita pizza", "fish and chips", "a poke bowl",
        "wings", "a falafel wrap", "pho", "a club sandwich", "dumplings", "a burrito bowl",
        "some garlic bread", "a green curry",
    ],
    "restaurant": [
        "Luigi's", "Taco Town", "the Thai place", "Burger Barn", "Sakura Sushi",
        "Pizza Planet", "Green Bowl", "Curry House", "Golden Dragon", "the usual place",
        "Pho King", "Mama's Kitchen",
    ],
    "order_ref": [
        "order 48213", "order #10293", "my order", "order number 7781", "my delivery",
        "the order I placed", "my food", "order 5521", "my pizza", "my dinner",
        "my lunch order", "the delivery",
    ],
    "dish": [
        "the pad thai", "the burrito bowl", "the lasagna", "the curry", "your pizzas",
        "the salads", "the chicken wings", "the ramen", "the brownies", "the veggie burger",
        "the fried rice", "the tacos",
    ],
    "allergen": ["peanuts", "gluten", "dairy", "shellfish", "nuts", "soy", "eggs", "sesame"],
    "email": [
        "my email", "my email address", "the email on my account", "my login email",
        "my contact email", "the email address on file",
    ],
    "new_email": [
        "jane.doe@gmail.com", "my work address", "a new gmail", "mark@outlook.com",
        "my personal email", "sam_lee@yahoo.com", "a different address",
    ],
    "address": [
        "my address", "my home address", "my shipping address", "my billing address",
        "my mailing address", "my delivery address", "my street address",
    ],
    "device": ["phone", "laptop", "iphone", "tablet", "new phone", "work computer"],
}

# --------------------------------------------------------------------------- intents

DOMAINS: dict[str, dict[str, int]] = {
    "banking": {
        "check_balance": 140, "transfer_money": 170, "check_transfer_status": 110,
        "lost_card": 100, "activate_card": 80, "banking_help": 55, "report_fraud": 8,
    },
    "travel": {
        "book_flight": 180, "change_flight": 95, "cancel_flight": 110, "flight_status": 130,
        "baggage_allowance": 70, "book_hotel": 100, "lost_luggage": 5,
    },
    "smart_home": {
        "lights_on": 150, "lights_off": 120, "set_temperature": 110,
        "check_temperature": 60, "play_music": 160, "set_alarm": 95,
    },
    "food_ordering": {
        "order_food": 170, "track_order": 120, "cancel_order": 80, "menu_info": 65,
        "order_help": 45, "allergy_info": 9,
    },
    "account_support": {
        "reset_password": 130, "change_email": 70, "delete_account": 50,
        "update_address": 60, "speak_to_agent": 85, "account_help": 55,
    },
}

#: Generic intent of each domain that has one (labelers fall back to it).
GENERIC = {
    "banking": "banking_help",
    "food_ordering": "order_help",
    "account_support": "account_help",
}

#: Sibling intents a labeler confuses each intent with, with relative weights. The
#: small intents (fewer than SMALL rows) are left out so that they stay small.
SIBLINGS: dict[str, list[tuple[str, int]]] = {
    "check_balance": [("check_transfer_status", 2), ("transfer_money", 1)],
    "transfer_money": [("check_transfer_status", 4)],
    "check_transfer_status": [("transfer_money", 4), ("check_balance", 1)],
    "lost_card": [("activate_card", 3), ("banking_help", 1)],
    "activate_card": [("lost_card", 3)],
    "book_flight": [("change_flight", 3), ("book_hotel", 1)],
    "change_flight": [("cancel_flight", 3), ("book_flight", 2)],
    "cancel_flight": [("change_flight", 4)],
    "flight_status": [("change_flight", 1), ("baggage_allowance", 1)],
    "baggage_allowance": [("flight_status", 1), ("book_flight", 1)],
    "book_hotel": [("book_flight", 2)],
    "lights_on": [("lights_off", 5)],
    "lights_off": [("lights_on", 5)],
    "set_temperature": [("check_temperature", 4)],
    "check_temperature": [("set_temperature", 4)],
    "play_music": [("set_alarm", 1)],
    "set_alarm": [("play_music", 1)],
    "order_food": [("track_order", 2), ("menu_info", 2)],
    "track_order": [("order_food", 2), ("cancel_order", 2)],
    "cancel_order": [("track_order", 3)],
    "menu_info": [("order_food", 2), ("order_help", 1)],
    "reset_password": [("change_email", 2), ("account_help", 1)],
    "change_email": [("update_address", 2), ("reset_password", 1)],
    "delete_account": [("speak_to_agent", 2)],
    "update_address": [("change_email", 3)],
    "speak_to_agent": [("delete_account", 1), ("account_help", 1)],
}

TEMPLATES: dict[str, list[str]] = {
    # ------------------------------------------------------------------ banking
    "check_balance": [
        "what's my balance?", "how much money is in my {account}?",
        "check my {account} balance", "what is the current balance of my {account}?",
        "can you tell me how much i have in {account}?", "show me my balance",
        "do i have enough in my {account} to pay {payee}?", "balance on {account}",
        "am i overdrawn on my {account}?", "tell me my available balance",
        "how much cash do I have right now?", "i need my {account} balance",
        "how much is left in my {account} after {when}?", "what's the balance on my {card}?",
        "did my paycheck hit my {account} yet?", "whats in my {account}",
        "how much can i spend this week?", "is there still money in my {account}?",
        "give me a quick balance check", "i want to see how much money i have",
        "could you pull up my {account} balance", "what do i have available on my {card}?",
    ],
    "transfer_money": [
        "send {amount} to {payee}", "transfer {amount} to {payee}",
        "i want to transfer {amount} from my {account} to {payee}",
        "can you move {amount} into {payee}", "pay {payee} {amount}",
        "i need to send money to {payee}", "wire {amount} to {payee} {date}",
        "move {amount} from {account} to savings", "please send {payee} {amount} for rent",
        "how do i send {amount} to {payee}?", "set up a transfer of {amount} to {payee}",
        "can i transfer money to {payee} right now?", "i owe {payee} {amount}, send it",
        "make a payment of {amount} to {payee}", "put {amount} in {payee}'s account",
        "transfer money between my accounts", "split {amount} with {payee}",
        "schedule a {amount} transfer to {payee} for {date}",
    ],
    "check_transfer_status": [
        "did my transfer to {payee} go through?", "has {payee} received the {amount} i sent?",
        "where is the money i sent {when}?", "my transfer still says pending, i sent it {when}",
        "why hasn't my transfer to {payee} arrived?", "check the status of my transfer",
        "is the {amount} transfer to {payee} done?", "{payee} says they never got my transfer",
        "how long until my transfer to {payee} clears?", "was the {amount} sent {when} completed?",
        "track the money i sent to {payee}", "the transfer i made {when} hasn't shown up",
        "did the {amount} go to {payee} yet?", "status of transfer to {payee}",
        "my money to {payee} is stuck", "why is my transfer taking so long?",
        "has my transfer been processed?",
    ],
    "lost_card": [
        "i lost my {card}", "i think i left my {card} {place}", "my {card} was stolen",
        "block my {card} please, it's gone", "i can't find my {card} anywhere",
        "someone took my wallet with my {card} {when}", "freeze my {card}, i lost it {place}",
        "how do i report a lost {card}?", "my {card} is missing", "i dropped my {card} {place}",
        "need to cancel my {card}, it got stolen {when}", "lost {card} what do i do",
        "please lock my {card}, i misplaced it", "my purse got stolen {place} with my {card}",
        "can i get a replacement, my {card} is lost",
    ],
    "activate_card": [
        "activate my {card}", "how do i activate my {card}?", "my {card} just arrived, turn it on",
        "i got my {card} in the mail, how do i start using it?", "enable my {card}",
        "the {card} won't work, is it activated?", "i need to activate the {card} you sent",
        "set up my {card} so i can use it", "my {card} came {when}, please activate it",
        "activation for {card}", "what's the activation code for my {card}?",
        "can't activate my {card}", "turn on my {card} for online purchases",
    ],
    "banking_help": [
        "i need help with my bank account", "something is wrong with my {card}",
        "i have a question about my {account}", "can someone help me with banking stuff",
        "help with my {card}", "i have an issue with a payment", "my {account} is acting weird",
        "i need help with a transfer", "question about my balance", "banking question",
        "who do i talk to about my {account}?", "help me with my {account} please",
        "i have a problem with my bank card", "can you help me with something on my {account}?",
        "need some help with money stuff",
    ],
    "report_fraud": [
        "there are charges on my {card} i didn't make", "i think someone stole my card details",
        "report a fraudulent transaction from {when}", "someone spent {amount} on my {card}",
        "i see a payment to a store i never visited", "unauthorized charge of {amount}",
        "my {account} was hacked", "fraud on my {card}",
    ],
    # ------------------------------------------------------------------ travel
    "book_flight": [
        "book a flight to {city}", "i need a flight to {city} {date}",
        "find me flights from {city} to {city2} {date}", "get me on a plane to {city}",
        "can you book me a ticket to {city}?", "i want to fly to {city} {date}",
        "are there any flights to {city} {date}?", "book two tickets to {city} on {airline}",
        "cheapest flight to {city} {date}", "reserve a seat on a flight to {city}",
        "one way to {city} please", "round trip to {city} leaving {date}",
        "i'd like to book a flight with {airline} to {city}", "flights to {city}?",
        "help me book a trip to {city}", "is there a direct flight from {city} to {city2}?",
        "look up flights to {city} for {date}", "i need to get to {city} by {date}",
    ],
    "change_flight": [
        "change my flight to {date}", "can i move {flight} to {date}?",
        "i need to reschedule my flight", "switch me to a later flight",
        "i can't make {flight}, can i change it?", "move my {city} flight to {date}",
        "change the date of my trip to {city}", "rebook me on an earlier flight",
        "can i change my seat on {flight}?", "how much does it cost to change {flight}?",
        "i want to fly {date} instead", "swap my flight to {city} for one {date}",
        "is it possible to change my return flight?", "upgrade my seat on {flight}",
    ],
    "cancel_flight": [
        "cancel my flight to {city}", "i need to cancel {flight}",
        "please cancel my booking for {date}", "can i get a refund if i cancel {flight}?",
        "i won't be flying to {city} anymore, cancel it", "cancel my trip",
        "how do i cancel a flight with {airline}?", "cancel the flight i booked {when}",
        "i can't make it {date}, cancel my ticket", "get rid of my reservation to {city}",
        "cancel both tickets to {city}", "what's the cancellation fee for {flight}?",
        "drop my {date} flight", "i want a refund for my flight to {city}",
    ],
    "flight_status": [
        "is {flight} on time?", "what's the status of {flight}?", "is my flight delayed?",
        "when does {flight} land?", "has {flight} departed yet?",
        "what gate is {flight} leaving from?", "is the flight from {city} delayed?",
        "flight status for {flight}", "when does my flight to {city} take off?",
        "did {flight} get cancelled?", "what time does the plane from {city} arrive?",
        "is {airline} flying on time today?", "how late is {flight} running?",
        "check if {flight} is on schedule",
    ],
    "baggage_allowance": [
        "can i bring {bag} on {airline}?", "how many bags can i check?",
        "what's the baggage allowance on {flight}?", "is {bag} allowed on the plane?",
        "how much does it cost to bring {bag}?", "weight limit for checked bags on {airline}",
        "do i have to pay for {bag}?", "can i take {bag} as hand luggage?",
        "what size carry-on does {airline} allow?", "baggage fees for {flight}",
        "can i fly with {bag} to {city}?",
    ],
    "book_hotel": [
        "book {hotel} in {city}", "find me {hotel} in {city} for {nights}",
        "i need {hotel} in {city} {date}", "reserve {hotel} for {nights}",
        "are there any hotels near downtown {city}?", "book me a place to stay in {city}",
        "i want {hotel} from {date} for {nights}", "get me {hotel} close to the airport in {city}",
        "hotel in {city} for {nights}", "can you find {hotel} under $150 a night in {city}?",
        "i need accommodation in {city} {date}",
    ],
    "lost_luggage": [
        "the airline lost my suitcase", "my bag didn't arrive in {city}",
        "{airline} lost my luggage", "my checked bag never showed up on the carousel",
        "where is my luggage from {flight}?", "i can't find my bag after landing in {city}",
        "report missing baggage",
    ],
    # ------------------------------------------------------------------ smart home
    "lights_on": [
        "turn on the lights", "turn on the {room} lights", "lights on in the {room}",
        "switch on the {room} light", "can you turn the lights on in the {room}?",
        "it's too dark in the {room}", "brighten the {room}", "light up the {room}",
        "i need some light in the {room}", "turn the {room} lamp on",
        "set the {room} lights to 100 percent", "lights on please",
        "turn on all the lights", "make the {room} brighter", "flip the {room} light on",
    ],
    "lights_off": [
        "turn off the lights", "turn off the {room} lights", "lights off in the {room}",
        "switch off the {room} light", "can you turn the lights off in the {room}?",
        "kill the lights in the {room}", "it's too bright in the {room}",
        "shut off the {room} lamp", "dim the {room} lights all the way", "lights off please",
        "turn off every light in the house", "i'm going to bed, lights off",
        "did i leave the {room} light on? turn it off",
    ],
    "set_temperature": [
        "set the thermostat to {temp}", "make it {temp} in the {room}",
        "turn the heat up to {temp}", "lower the temperature to {temp}",
        "it's cold, turn up the heat", "it's way too hot in the {room}",
        "can you cool the house down to {temp}?", "change the thermostat to {temp}",
        "set the {room} to {temp}", "turn on the AC", "bump the heat up a couple degrees",
        "warm up the {room} to {temp}",
    ],
    "check_temperature": [
        "what's the temperature in the {room}?", "how warm is it inside?",
        "what is the thermostat set to?", "is the heat on?", "how cold is the {room} right now?",
        "tell me the indoor temperature", "what temp is the house at?",
        "is the AC running?", "what's the humidity and temperature in the {room}?",
        "check the thermostat",
    ],
    "play_music": [
        "play {artist}", "put on {artist}", "play {artist} in the {room}",
        "can you play some {artist}?", "i want to listen to {artist}",
        "start my {artist} playlist", "shuffle {artist}", "play something by {artist}",
        "music please", "play {artist} on the {room} speaker", "turn on some music",
        "queue up {artist}", "play the next song", "resume the music",
    ],
    "set_alarm": [
        "set an alarm for {time}", "wake me up at {time}", "alarm at {time}",
        "can you set an alarm for {time}?", "i need to be up by {time}",
        "set a wake up alarm for {time}", "remind me to wake up at {time}",
        "change my alarm to {time}", "add an alarm for {time}", "new alarm {time}",
        "wake me up at {time} with {artist}", "set my alarm for {time} every day",
    ],
    # ------------------------------------------------------------------ food ordering
    "order_food": [
        "order {food}", "i want {food} from {restaurant}", "get me {food}",
        "can i order {food} for delivery?", "i'd like to order {food} from {restaurant}",
        "order {food} and a coke", "deliver {food} to my place", "i'm hungry, order {food}",
        "place an order at {restaurant}", "can you get {food} delivered by 7?",
        "i want to order dinner from {restaurant}", "add {food} to my order",
        "order my usual from {restaurant}", "get {food} for pickup at {restaurant}",
        "let's get {food} tonight",
    ],
    "track_order": [
        "where is {order_ref}?", "track {order_ref}", "when will {order_ref} arrive?",
        "how long until {order_ref} gets here?", "is {order_ref} on the way?",
        "{order_ref} is late", "has the driver picked up {order_ref}?",
        "what's the eta on {order_ref}?", "status of {order_ref}",
        "my food from {restaurant} still hasn't come", "it's been an hour, where's {order_ref}?",
        "is my order from {restaurant} out for delivery?", "can i see where the driver is?",
    ],
    "cancel_order": [
        "cancel {order_ref}", "i want to cancel {order_ref}", "please cancel my order",
        "can i still cancel {order_ref}?", "stop {order_ref}, i don't want it anymore",
        "cancel my order from {restaurant}", "i ordered by mistake, cancel it",
        "how do i cancel {order_ref}?", "cancel the {food}", "never mind, cancel {order_ref}",
        "i need to cancel and get a refund for {order_ref}",
    ],
    "menu_info": [
        "what's on the menu at {restaurant}?", "does {restaurant} have vegan options?",
        "how much is {dish}?", "what comes with {dish}?", "show me the menu",
        "what desserts does {restaurant} have?", "is {dish} spicy?",
        "what are today's specials?", "do you have {food}?", "what sizes does {dish} come in?",
        "what's good at {restaurant}?",
    ],
    "order_help": [
        "i need help with my order", "something is wrong with {order_ref}",
        "problem with my food order", "help with my {restaurant} order",
        "i have a question about {order_ref}", "my order is messed up",
        "can you help me with {order_ref}?", "i have an issue with my delivery",
        "order problem", "need help with food delivery", "something went wrong with my order",
    ],
    "allergy_info": [
        "does {dish} contain {allergen}?", "is {dish} {allergen} free?",
        "i'm allergic to {allergen}, what can i eat?", "which dishes have {allergen} in them?",
        "allergen info for {dish}", "is there {allergen} in {dish}?",
        "can you make {dish} without {allergen}?", "does {restaurant} label allergens?",
    ],
    # ------------------------------------------------------------------ account / support
    "reset_password": [
        "reset my password", "i forgot my password", "i can't log in, forgot my password",
        "how do i change my password?", "send me a password reset link",
        "i'm locked out of my account", "my password isn't working", "new password please",
        "i need to reset my password on my {device}", "password reset",
        "the reset email never came", "how do i recover my account?",
        "help, i can't remember my login", "change my password, i think it was leaked",
        "my password expired", "unlock my account",
    ],
    "change_email": [
        "change {email} to {new_email}", "update {email}", "i want to use {new_email} instead",
        "how do i change {email}?", "switch {email} to {new_email}",
        "i no longer use {email}, change it", "can i update {email} on my {device}?",
        "replace {email} with {new_email}", "my email changed, please update it",
    ],
    "delete_account": [
        "delete my account", "i want to close my account", "how do i delete my profile?",
        "remove all my data and close my account", "cancel my membership",
        "please deactivate my account", "i don't want this account anymore",
        "permanently delete my account", "how can i get rid of my account?",
        "close my account and erase my info",
    ],
    "update_address": [
        "update {address}", "change {address}", "i moved, please update {address}",
        "my new address is 42 Oak Street", "how do i change {address}?",
        "edit {address}", "i need to fix {address}", "{address} is wrong",
        "change {address} to my new apartment", "add a new address to my account",
    ],
    "speak_to_agent": [
        "let me talk to a human", "can i speak to an agent?", "i want a real person",
        "connect me to customer service", "transfer me to a representative",
        "is there someone i can call?", "get me a live agent", "i need to talk to support",
        "operator please", "can someone call me back?", "what's your phone number?",
        "this bot isn't helping, i need a person", "chat with an agent",
    ],
    "account_help": [
        "i need help with my account", "having trouble with my account", "account problem",
        "can you help me with my profile settings?", "something is off with my login",
        "i have a question about my account settings", "my account isn't working right",
        "help me with {email}", "i need help with my profile", "account issue",
        "help with my account on my {device}", "something's wrong with my account",
    ],
}

# Chat-style wrappers (weights: the empty string most of the time).
PREFIXES = [
    ("", 60), ("hey ", 6), ("hi, ", 5), ("hello ", 3), ("hi there, ", 2), ("ok so ", 2),
    ("um ", 1), ("quick question, ", 2), ("excuse me, ", 1), ("good morning, ", 1),
    ("yo ", 1), ("so ", 2),
]
SUFFIXES = [
    ("", 70), (" please", 7), (" thanks", 5), (" thank you", 3), (" asap", 1),
    (" pls", 2), (" thx", 1), (" right now", 1), (" again", 1), (" :)", 1),
]
KEYBOARD_NEIGHBORS = {
    "a": "sq", "e": "wr", "i": "uo", "o": "ip", "n": "bm", "s": "ad", "t": "ry",
    "r": "et", "l": "k", "m": "n", "h": "gj", "c": "xv", "d": "sf", "u": "yi",
}


# --------------------------------------------------------------------------- generation


def _weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    total = sum(w for _, w in options)
    x = rng.random() * total
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


def _fill(rng: random.Random, template: str) -> str:
    text = template
    # Two passes: a slot value may itself hold a slot ("my flight to {city}").
    for _ in range(2):
        used: dict[str, str] = {}
        for name in re.findall(r"\{(\w+)\}", text):
            if name in used:
                continue
            base = name.rstrip("2")
            value = rng.choice(SLOTS[base])
            if name.endswith("2"):
                while value == used.get(base):
                    value = rng.choice(SLOTS[base])
            used[name] = value
            text = text.replace("{" + name + "}", value, 1)
    return text


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(4)
    if kind == 0:  # swap two letters
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif kind == 1:  # drop a letter
        w = w[:j] + w[j + 1:]
    elif kind == 2:  # double a letter
        w = w[:j] + w[j] + w[j:]
    else:  # hit a neighboring key
        near = KEYBOARD_NEIGHBORS.get(w[j].lower())
        w = w[:j] + (rng.choice(near) if near else w[j] * 2) + w[j + 1:]
    words[i] = w
    return " ".join(words)


def _style(rng: random.Random, text: str) -> str:
    core = text.rstrip("?.!")
    end = text[len(core):]
    prefix, suffix = _weighted(rng, PREFIXES), _weighted(rng, SUFFIXES)
    if suffix.strip() and suffix.strip() in core:  # no "right now right now"
        suffix = ""
    roll = rng.random()
    if roll < 0.45:  # casual chat: lower case, no final punctuation
        case, end = "lower", ""
    elif roll < 0.85:  # sentence case, keep the question mark
        case, end = "sentence", end or rng.choice(["", ".", ""])
    elif roll < 0.98:
        case = "lower"
    else:  # shouting
        case, end = "upper", end or "!"
    if suffix.strip() in {"thanks", "thank you", "thx", ":)"}:
        text = prefix + core + end + suffix  # "What's my balance? thanks"
    else:
        text = prefix + core + suffix + end  # "Send $50 to Sarah please."
    if case == "lower":
        text = text.lower()
    elif case == "upper":
        text = text.upper()
    else:
        text = text[0].upper() + text[1:]
    if rng.random() < TYPO_RATE:
        text = _typo(rng, text)
    return text


def normalize(text: str) -> str:
    """Lower case, letters and digits only: texts equal under this are duplicates."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _utterances(rng: random.Random, intent: str, n: int, seen: set[str]) -> list[str]:
    out: list[str] = []
    templates = TEMPLATES[intent]
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 200 * n:
            raise RuntimeError(f"not enough distinct utterances for {intent!r}")
        text = _style(rng, _fill(rng, rng.choice(templates)))
        text = " ".join(text.split())
        key = normalize(text)
        if key in seen:
            continue
        seen.add(key)
        out.append(text)
    return out


def _weighted_sample(
    rng: random.Random, items: list[int], weights: list[float], k: int
) -> list[int]:
    """Draw ``k`` items without replacement, probability proportional to weight."""
    keyed = sorted(
        ((rng.random() ** (1.0 / w), item) for item, w in zip(items, weights) if w > 0),
        reverse=True,
    )
    return sorted(item for _, item in keyed[:k])


def build_rows(seed: int = SEED) -> list[dict[str, str]]:
    """Build the demo rows (shuffled) with planted noise; deterministic for a seed."""
    rng = random.Random(seed)
    domain_of = {intent: d for d, intents in DOMAINS.items() for intent in intents}
    intents = list(domain_of)
    seen: set[str] = set()
    texts: list[str] = []
    clean: list[str] = []
    for intent in intents:
        for text in _utterances(rng, intent, DOMAINS[domain_of[intent]][intent], seen):
            texts.append(text)
            clean.append(intent)
    n = len(texts)
    size = {intent: clean.count(intent) for intent in intents}
    label = list(clean)
    free = [i for i in range(n) if size[clean[i]] >= SMALL]

    # 1. sibling confusions, weighted by how confusable the intent is
    weights = [float(sum(w for _, w in SIBLINGS.get(clean[i], []))) for i in free]
    for i in _weighted_sample(rng, free, weights, round(SIBLING_RATE * n)):
        label[i] = _weighted(rng, SIBLINGS[clean[i]])
    # 2. generic intent chosen instead of a specific one
    free = [i for i in free if label[i] == clean[i]]
    generic_ok = [
        i for i in free
        if domain_of[clean[i]] in GENERIC and clean[i] != GENERIC[domain_of[clean[i]]]
    ]
    for i in sorted(rng.sample(generic_ok, round(GENERIC_RATE * n))):
        label[i] = GENERIC[domain_of[clean[i]]]
    # 3. uniform noise over all other intents
    free = [i for i in free if label[i] == clean[i]]
    for i in sorted(rng.sample(free, round(UNIFORM_RATE * n))):
        label[i] = rng.choice([c for c in intents if c != clean[i] and size[c] >= SMALL])
    # 4. a few texts duplicated with a conflicting (sibling) label
    free = [i for i in free if label[i] == clean[i] and clean[i] in SIBLINGS]
    for i in sorted(rng.sample(free, N_CONFLICTS)):
        texts.append(texts[i])
        clean.append(clean[i])
        label.append(_weighted(rng, SIBLINGS[clean[i]]))

    order = list(range(len(texts)))
    rng.shuffle(order)
    return [
        {"text": texts[i], "label": label[i], "domain": domain_of[label[i]],
         "clean_label": clean[i]}
        for i in order
    ]


def to_csv(rows: list[dict[str, str]]) -> str:
    """The CSV text (UTF-8, ``\\n`` line endings, minimal quoting)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_demo(path: str | Path = OUTPUT, *, seed: int = SEED) -> Path:
    """Generate the dataset and write it to ``path``; return the path."""
    path = Path(path)
    path.write_bytes(to_csv(build_rows(seed)).encode("utf-8"))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", "-o", type=Path, default=OUTPUT, help="CSV to write")
    args = parser.parse_args(argv)
    rows = build_rows()
    args.output.write_bytes(to_csv(rows).encode("utf-8"))
    wrong = sum(r["label"] != r["clean_label"] for r in rows)
    print(
        f"wrote {args.output}: {len(rows)} rows, "
        f"{len({r['clean_label'] for r in rows})} intents, "
        f"{wrong} wrong labels ({wrong / len(rows):.2%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
